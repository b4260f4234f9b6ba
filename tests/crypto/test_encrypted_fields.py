"""Field-level AES-256-GCM: ciphertext at rest, bound to its row, every tampering a clear failure."""

from __future__ import annotations

import base64
import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import FieldError
from django.db import connection

from bastion.crypto import envelope, keyring
from bastion.crypto.models import DataKey
from bastion.records.models import Supplier
from bastion.tenancy import context


def _stored(supplier) -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_name, contact_email, contract_value FROM records_supplier WHERE id = %s",
                       [supplier.id.hex if connection.vendor == "sqlite" else supplier.id])
        return dict(zip(("contact_name", "contact_email", "contract_value"), cursor.fetchone(), strict=True))


def _reload(ns, supplier_id=None):
    """The supplier with its encrypted fields opened (a data key is readable only in its organisation's context)."""
    with context.tenant_context(ns.organisation.id):
        supplier = Supplier.objects.get(id=supplier_id or ns.supplier.id)
        supplier.contact_name, supplier.contact_email, supplier.contract_value  # noqa: B018
        return supplier


def test_the_database_holds_only_ciphertext_and_reads_back_in_clear(world):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        supplier = Supplier.objects.get(id=acme.supplier.id)
        supplier.contract_value = Decimal("250000.50")
        supplier.save()
        stored = _stored(supplier)
    for column, value in stored.items():
        assert value.startswith("QkUx"), column  # base64 of the b"BE1" envelope header
    assert "Pat" not in stored["contact_name"] and "acme-supplier" not in stored["contact_email"]
    again = _reload(acme)
    assert (again.contact_name, again.contact_email, again.contract_value) == (
        "Pat Example", "pat@acme-supplier.example", Decimal("250000.50"))


def _open(world, column: str, token: str):
    acme = world.acme
    ad = envelope.associated_data(acme.organisation.id, "records_supplier", column, acme.supplier.id)
    with context.tenant_context(acme.organisation.id):
        return envelope.decrypt(token, organisation_id=acme.organisation.id, ad=ad)


@pytest.mark.parametrize("part", ["version", "nonce", "ciphertext", "tag"])
def test_one_altered_byte_anywhere_fails_with_a_clear_error(world, part):
    with context.tenant_context(world.acme.organisation.id):
        token = _stored(world.acme.supplier)["contact_email"]
    assert _open(world, "contact_email", token) == b"pat@acme-supplier.example"
    raw = bytearray(base64.b64decode(token))
    index = {"version": 5, "nonce": 3 + 4 + 5, "ciphertext": 3 + 4 + 12 + 2, "tag": len(raw) - 3}[part]
    raw[index] ^= 0x01
    with pytest.raises(envelope.DecryptionFailed) as excinfo:
        _open(world, "contact_email", base64.b64encode(bytes(raw)).decode())
    assert "does not decrypt" in str(excinfo.value)


def test_the_associated_data_binds_column_row_and_organisation(world):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        token = _stored(acme.supplier)["contact_email"]
        for organisation_id, column, row in (
            (acme.organisation.id, "contact_name", acme.supplier.id),
            (acme.organisation.id, "contact_email", uuid.uuid4()),
            (world.globex.organisation.id, "contact_email", acme.supplier.id),
        ):
            with pytest.raises(envelope.DecryptionFailed):
                envelope.decrypt(token, organisation_id=acme.organisation.id,
                                 ad=envelope.associated_data(organisation_id, "records_supplier", column, row))


def test_a_ciphertext_swapped_into_another_row_does_not_open(world):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        other = Supplier.objects.create(organisation=acme.organisation, project=acme.project, name="Second",
                                        contact_email="second@example.com")
        first, second = _stored(acme.supplier), _stored(other)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE records_supplier SET contact_email = %s WHERE id = %s",
                           [first["contact_email"], other.id.hex if connection.vendor == "sqlite" else other.id])
        moved = Supplier.objects.get(id=other.id)
        with pytest.raises(envelope.DecryptionFailed):
            moved.contact_email  # noqa: B018 (reading the attribute is the test)
    assert second["contact_email"] != first["contact_email"]


def test_encrypted_columns_can_not_be_searched_by_mistake(world):
    with context.tenant_context(world.acme.organisation.id):
        with pytest.raises(FieldError, match="encrypted"):
            list(Supplier.objects.filter(contact_email="pat@acme-supplier.example"))
        assert Supplier.objects.filter(contract_value__isnull=True).exists()


def test_data_keys_are_per_organisation_and_stored_only_wrapped(world):
    acme, globex = world.acme.organisation.id, world.globex.organisation.id
    with context.tenant_context(acme):
        [row] = DataKey.objects.filter(organisation_id=acme)
        version, key = keyring.current(acme)
    assert (row.version, version, len(key)) == (1, 1, 32)
    assert key not in bytes(row.wrapped) and len(bytes(row.wrapped)) == 12 + 32 + 16
    with context.tenant_context(globex):
        assert keyring.current(globex)[1] != key


def test_unwrapped_keys_are_cached_only_for_the_configured_time(world, settings):
    from prometheus_client import REGISTRY

    settings.BASTION_DATA_KEY_CACHE_SECONDS = 0
    keyring.forget_cached()
    before = REGISTRY.get_sample_value("bastion_crypto_key_unwraps_total", {"provider": "local"}) or 0
    for _ in range(3):
        with context.tenant_context(world.acme.organisation.id):
            Supplier.objects.get(id=world.acme.supplier.id).contact_email  # noqa: B018
    after = REGISTRY.get_sample_value("bastion_crypto_key_unwraps_total", {"provider": "local"})
    assert after - before == 3
