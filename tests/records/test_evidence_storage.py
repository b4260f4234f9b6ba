"""Evidence bytes live in object storage, encrypted, and leave it with their row, however the row goes."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages

from bastion.crypto.models import Artifact
from bastion.records.editing import delete_record
from bastion.records.evidence import open_evidence
from bastion.tenancy import actions, context


def _key(ns) -> str:
    with context.tenant_context(ns.organisation.id):
        return Artifact.objects.get(id=ns.evidence.artifact_id).storage_key


@pytest.mark.django_db(transaction=False)
def test_deleting_a_record_removes_its_evidence_bytes(world, django_capture_on_commit_callbacks):
    key, outsiders_key = _key(world.acme), _key(world.globex)
    assert storages["default"].exists(key)
    with context.tenant_context(world.acme.organisation.id), django_capture_on_commit_callbacks(execute=True):
        delete_record(world.acme.emission)
        assert not Artifact.objects.filter(id=world.acme.evidence.artifact_id).exists()
    assert not storages["default"].exists(key)
    assert storages["default"].exists(outsiders_key)


def test_deleting_a_project_removes_its_evidence_bytes(world, django_capture_on_commit_callbacks):
    key = _key(world.acme)
    with context.tenant_context(world.acme.organisation.id), django_capture_on_commit_callbacks(execute=True):
        actions.delete_project(world.acme.project)
    assert not storages["default"].exists(key)


def test_evidence_is_stored_encrypted_under_its_organisation(world):
    key = _key(world.acme)
    assert key.startswith(f"org/{world.acme.organisation.id}/evidence/")
    assert "invoice" not in key  # the file name stays in the database
    with storages["default"].open(key) as handle:
        stored = handle.read()
    assert stored.startswith(b"BEA1") and b"%PDF" not in stored and b"acme invoice" not in stored
    with context.tenant_context(world.acme.organisation.id):
        assert open_evidence(world.acme.evidence).read() == b"%PDF-1.4\nacme invoice\n"
