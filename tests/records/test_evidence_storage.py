"""Evidence bytes live in object storage and leave it with their row, however the row goes."""

from __future__ import annotations

import pytest
from django.core.files.storage import storages

from bastion.records.editing import delete_record
from bastion.tenancy import actions, context


@pytest.mark.django_db(transaction=False)
def test_deleting_a_record_removes_its_evidence_bytes(world, django_capture_on_commit_callbacks):
    key = world.acme.evidence.storage_key
    assert storages["default"].exists(key)
    with context.tenant_context(world.acme.organisation.id), django_capture_on_commit_callbacks(execute=True):
        delete_record(world.acme.emission)
    assert not storages["default"].exists(key)
    assert storages["default"].exists(world.globex.evidence.storage_key)


def test_deleting_a_project_removes_its_evidence_bytes(world, django_capture_on_commit_callbacks):
    key = world.acme.evidence.storage_key
    with context.tenant_context(world.acme.organisation.id), django_capture_on_commit_callbacks(execute=True):
        actions.delete_project(world.acme.project)
    assert not storages["default"].exists(key)


def test_evidence_is_stored_under_its_organisation(world):
    assert world.acme.evidence.storage_key.startswith(f"org/{world.acme.organisation.id}/evidence/")
    with storages["default"].open(world.acme.evidence.storage_key) as handle:
        assert handle.read().startswith(b"%PDF-")
