"""Encrypted artifacts: files are encrypted per organisation before they reach object storage
(local or S3), any change to the stored bytes is a clear refusal, and ephemeral files are deleted
after their one use or when they expire, each deletion audited."""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
from django.core.files.storage import storages
from django.utils import timezone

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.crypto.models import Artifact
from bastion.operations.tasks import purge_expired_artifacts
from bastion.tenancy import context

BIG_CSV = b"".join(b"site,meter,kwh\n" + f"London,{i},{i * 7}\n".encode() for i in range(9000))  # ~3 chunks


def _evidence_url(ns, suffix=""):
    return f"/api/v1/orgs/{ns.slug}/projects/{ns.project.id}/evidence{suffix}"


def _upload(client, ns, content=BIG_CSV, name="meters.csv", content_type="text/csv"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(_evidence_url(ns), {"file": SimpleUploadedFile(name, content, content_type)})
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _artifact_by_evidence(ns, evidence_id) -> Artifact:
    from bastion.records.models import EvidenceFile

    with context.tenant_context(ns.organisation.id):
        return Artifact.objects.get(id=EvidenceFile.objects.get(id=evidence_id).artifact_id)


def _stored(artifact: Artifact) -> bytes:
    with storages["default"].open(artifact.storage_key) as handle:
        return handle.read()


def _replace(artifact: Artifact, content: bytes) -> None:
    storages["default"].delete(artifact.storage_key)
    from django.core.files.base import ContentFile

    assert storages["default"].save(artifact.storage_key, ContentFile(content)) == artifact.storage_key


def _download(client, ns, evidence_id):
    response = client.get(_evidence_url(ns, f"/{evidence_id}/download"))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body


def test_a_large_file_round_trips_and_is_stored_only_as_ciphertext(world, client_for):
    editor = client_for(world.acme.users["editor"])
    evidence_id = _upload(editor, world.acme)
    artifact = _artifact_by_evidence(world.acme, evidence_id)
    stored = _stored(artifact)
    assert stored.startswith(b"BEA1") and b"London" not in stored and len(stored) > len(BIG_CSV)
    assert _download(editor, world.acme, evidence_id) == (200, BIG_CSV)
    outsider = client_for(world.globex.users["owner"])
    assert _download(outsider, world.acme, evidence_id)[0] == 404


@pytest.mark.parametrize("where", ["header", "first chunk", "last tag", "truncated", "extended"])
def test_any_change_to_the_stored_file_is_refused_with_a_clear_error(world, client_for, where):
    editor = client_for(world.acme.users["editor"])
    evidence_id = _upload(editor, world.acme)
    artifact = _artifact_by_evidence(world.acme, evidence_id)
    stored = bytearray(_stored(artifact))
    if where == "header":
        stored[6] ^= 0x01
    elif where == "first chunk":
        stored[100] ^= 0x80
    elif where == "last tag":
        stored[-1] ^= 0x01
    elif where == "truncated":
        stored = stored[: 11 + 65536 + 16]  # exactly after the first chunk: a clean cut
    else:
        stored += stored[11: 11 + 65536 + 16]
    _replace(artifact, bytes(stored))
    status, body = _download(editor, world.acme, evidence_id)
    assert status == 409
    assert json.loads(body)["error"]["code"] == "stored_file_unreadable"
    assert b"London" not in body


def test_a_file_moved_under_another_files_name_does_not_open(world, client_for):
    editor = client_for(world.acme.users["editor"])
    first, second = _upload(editor, world.acme), _upload(editor, world.acme, b"%PDF-1.4 other\n", "o.pdf", "application/pdf")
    first_artifact, second_artifact = _artifact_by_evidence(world.acme, first), _artifact_by_evidence(world.acme, second)
    _replace(second_artifact, _stored(first_artifact))
    assert _download(editor, world.acme, second)[0] == 409
    assert _download(editor, world.acme, first) == (200, BIG_CSV)


def _events(ns, action):
    with context.tenant_context(ns.organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=ns.organisation.id, action=action).order_by("seq")))


def test_an_export_is_encrypted_downloaded_once_and_gone(world, client_for, django_capture_on_commit_callbacks):
    admin = client_for(world.acme.users["admin"])
    created = admin.post("/api/v1/orgs/acme/audit/exports")
    assert created.status_code == 201, created.content
    export = created.json()
    with context.tenant_context(world.acme.organisation.id):
        artifact = Artifact.objects.get(id=export["id"])
    assert artifact.ephemeral and artifact.expires_at > timezone.now() + datetime.timedelta(days=13)
    stored = _stored(artifact)
    assert stored.startswith(b"BEA1") and b"header" not in stored
    assert client_for(world.globex.users["owner"]).get(export["download"]).status_code == 404
    assert client_for(world.acme.users["editor"]).get(export["download"]).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.get(export["download"])
    assert response.status_code == 200
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert lines[0]["type"] == "header" and lines[-1]["type"] == "end"
    assert admin.get(export["download"]).status_code == 404  # deleted after use
    assert not storages["default"].exists(artifact.storage_key)
    assert _events(world.acme, "artifact.consumed")[-1].resource_id == str(artifact.id)


def test_the_scheduled_job_deletes_expired_ephemeral_files_and_audits_it(world, django_capture_on_commit_callbacks):
    acme, globex = world.acme, world.globex
    with context.tenant_context(acme.organisation.id):
        Artifact.objects.filter(id=acme.export.id).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
        expired_key = Artifact.objects.get(id=acme.export.id).storage_key
        evidence_artifact = acme.evidence.artifact_id
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_expired_artifacts.call_local() == 1
    assert not storages["default"].exists(expired_key)
    with context.tenant_context(acme.organisation.id):
        assert not Artifact.objects.filter(id=acme.export.id).exists()
        assert Artifact.objects.filter(id=evidence_artifact).exists()  # evidence is not ephemeral
    with context.tenant_context(globex.organisation.id):
        assert Artifact.objects.filter(id=globex.export.id).exists()  # not expired yet
    (event,) = _events(acme, "artifact.expired")
    assert event.actor_type == "system" and event.changes["purpose"] == "audit_export"


@pytest.fixture
def s3_storage(settings, moto_endpoint):
    bucket = f"bastion-test-{timezone.now().strftime('%H%M%S%f')}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": bucket, "endpoint_url": moto_endpoint, "region_name": "us-east-1",
                    "default_acl": None, "file_overwrite": False}}}
    return boto3.resource("s3", endpoint_url=moto_endpoint, region_name="us-east-1").Bucket(bucket)


def test_files_in_s3_are_ciphertext_and_leave_with_their_row(world, client_for, s3_storage,
                                                             django_capture_on_commit_callbacks):
    editor = client_for(world.acme.users["editor"])
    evidence_id = _upload(editor, world.acme)
    artifact = _artifact_by_evidence(world.acme, evidence_id)
    (obj,) = [o for o in s3_storage.objects.all() if o.key == artifact.storage_key]
    stored = obj.get()["Body"].read()
    assert stored.startswith(b"BEA1") and b"London" not in stored
    assert _download(editor, world.acme, evidence_id) == (200, BIG_CSV)
    stored = bytearray(stored)
    stored[-3] ^= 0x01
    s3_storage.put_object(Key=artifact.storage_key, Body=bytes(stored))
    assert _download(editor, world.acme, evidence_id)[0] == 409
    with django_capture_on_commit_callbacks(execute=True):
        assert editor.delete(_evidence_url(world.acme, f"/{evidence_id}")).status_code == 204
    assert artifact.storage_key not in [o.key for o in s3_storage.objects.all()]
