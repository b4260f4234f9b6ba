"""Deleting an organisation destroys its keys: its ciphertexts cannot be opened, not even from a backup."""

from __future__ import annotations

import datetime

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import connection
from django.utils import timezone

from bastion.audit.models import AuditEvent
from bastion.audit.verification import verify_chain
from bastion.crypto import artifacts, envelope, keyring, kms
from bastion.crypto.models import Artifact, DataKey
from bastion.privacy import organisation_deletion
from bastion.records.models import Supplier
from bastion.tenancy import context


def _backup_of(ns) -> dict:
    """What a backup holds for one supplier and one evidence file: the supplier's ciphertext, the
    evidence file's row (with its sealed file key) and stored bytes, and the wrapped data key."""
    with context.tenant_context(ns.organisation.id), connection.cursor() as cursor:
        supplier_id = ns.supplier.id.hex if connection.vendor == "sqlite" else ns.supplier.id
        cursor.execute("SELECT contact_email FROM records_supplier WHERE id = %s", [supplier_id])
        ciphertext = cursor.fetchone()[0]
        key = DataKey.objects.get(organisation_id=ns.organisation.id, version=1)
        artifact = Artifact.objects.get(id=ns.evidence.artifact_id)
        with storages["default"].open(artifact.storage_key) as stored:
            file_bytes = stored.read()
        return {"ciphertext": ciphertext, "key": kms.Wrapped(key.provider, key.kek_id, bytes(key.wrapped)),
                "artifact": Artifact.objects.filter(id=artifact.id).values().get(), "file": file_bytes}


def _restore_row(row: dict) -> None:
    """Put a row back as a database restore would: the stored values, not through the model."""
    def stored(value):
        if connection.vendor == "sqlite" and hasattr(value, "hex") and not hasattr(value, "isoformat"):
            return value.hex
        return str(value) if isinstance(value, str) else value

    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO crypto_artifact ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})",
                       [stored(v) for v in row.values()])


def test_deleting_an_organisation_shreds_it(world, client_for, django_capture_on_commit_callbacks):
    acme = world.acme
    backup = _backup_of(acme)
    ad = envelope.associated_data(acme.organisation.id, "records_supplier", "contact_email", acme.supplier.id)
    context_bytes = f"bastion-data-key|{acme.organisation.id}|1".encode()
    assert kms.provider().unwrap(backup["key"], context_bytes)  # readable before

    assert client_for(acme.users["admin"]).delete("/api/v1/orgs/acme").status_code == 403  # owners only
    # The owner's request schedules the deletion (a grace period, cancellable: issue 17); the daily job
    # deletes it once the grace period is over.
    assert client_for(acme.users["owner"]).delete("/api/v1/orgs/acme").status_code == 202
    later = timezone.now() + datetime.timedelta(days=settings.BASTION_ORGANISATION_DELETION_GRACE_DAYS, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert organisation_deletion.delete_due(now=later).deleted == ["acme"]

    # The live data is gone, and so are the keys.
    with context.tenant_context(acme.organisation.id):
        assert not Supplier.objects.exists()
        assert not DataKey.objects.filter(organisation_id=acme.organisation.id).exists()
    # A restored backup does not help: its wrapped data key no longer opens, so neither does the ciphertext.
    keyring.forget_cached()
    with pytest.raises(kms.KeyUnavailable):
        kms.provider().unwrap(backup["key"], context_bytes)
    with context.tenant_context(acme.organisation.id):
        DataKey.objects.create(organisation_id=acme.organisation.id, version=1, provider=backup["key"].provider,
                               kek_id=backup["key"].kek_id, wrapped=backup["key"].blob)
        with pytest.raises(envelope.DecryptionFailed):
            envelope.decrypt(backup["ciphertext"], organisation_id=acme.organisation.id, ad=ad)
        # Nor does the evidence file, restored with its row, open.
        assert not storages["default"].exists(backup["artifact"]["storage_key"])
        storages["default"].save(backup["artifact"]["storage_key"], ContentFile(backup["file"]))
        _restore_row(backup["artifact"])
        with pytest.raises(artifacts.ArtifactUnreadable):
            artifacts.read(Artifact.objects.get(id=backup["artifact"]["id"]))

    # The other organisation is untouched; the deleted one's audit chain stays whole and says what happened.
    globex = _backup_of(world.globex)
    assert kms.provider().unwrap(globex["key"], f"bastion-data-key|{world.globex.organisation.id}|1".encode())
    with context.tenant_context(acme.organisation.id):
        last = AuditEvent.objects.filter(chain_id=acme.organisation.id).order_by("-seq").first()
    assert last.action == "organisation.deleted"
    assert verify_chain(str(acme.organisation.id)).ok


def test_a_failed_deletion_destroys_no_key(world, monkeypatch):
    """The KEK is destroyed only after the deletion commits."""
    from bastion.tenancy import actions

    acme = world.acme
    backup = _backup_of(acme)
    monkeypatch.setattr(type(acme.organisation), "delete", lambda self: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        actions.delete_organisation(acme.organisation)
    keyring.forget_cached()
    assert kms.provider().unwrap(backup["key"], f"bastion-data-key|{acme.organisation.id}|1".encode())
