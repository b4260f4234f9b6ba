"""What the KMS provider suites (test_aws_kms.py, test_pkcs11_kms.py) read of an organisation: a
value that must open, its stored data keys, a key as a provider sees it, and the unwrap counter."""

from __future__ import annotations

from prometheus_client import REGISTRY

from bastion.crypto import kms
from bastion.crypto.models import DataKey
from bastion.records.models import Supplier
from bastion.tenancy import context


def email_of(ns) -> str:
    with context.tenant_context(ns.organisation.id):
        return Supplier.objects.get(id=ns.supplier.id).contact_email


def data_keys_of(ns) -> list[DataKey]:
    with context.tenant_context(ns.organisation.id):
        return list(DataKey.objects.filter(organisation_id=ns.organisation.id).order_by("version"))


def wrapped_of(row: DataKey) -> kms.Wrapped:
    return kms.Wrapped(row.provider, row.kek_id, bytes(row.wrapped))


def unwraps(provider: str) -> float:
    return REGISTRY.get_sample_value("bastion_crypto_key_unwraps_total", {"provider": provider}) or 0
