"""The ``aws-kms`` provider against a real KMS HTTP endpoint (``moto_server``): per-organisation KEKs
that wrap data keys, as the KMS shows them, destroyed, unreachable; the contract both providers keep
(binding, tampering, rotation, moving from ``local``) is test_kms_providers.py."""

from __future__ import annotations

import datetime

import boto3
import pytest

from bastion.crypto import envelope, keyring, kms
from bastion.crypto.models import DataKey
from bastion.tenancy import context
from tests.crypto.org_keys import data_keys_of, email_of, unwraps, wrapped_of
from tests.live_server import free_port


def _use_aws_kms(settings, endpoint: str) -> None:
    settings.BASTION_KMS = "aws-kms"
    settings.BASTION_AWS_KMS_ENDPOINT_URL = endpoint
    keyring.forget_cached()


@pytest.fixture
def aws_kms(settings, moto_endpoint):
    """``aws-kms`` on the session's moto_server; no unwrapped key cached across tests."""
    _use_aws_kms(settings, moto_endpoint)
    yield boto3.client("kms", endpoint_url=moto_endpoint, region_name="us-east-1")
    keyring.forget_cached()


@pytest.fixture
def orgs(aws_kms, world):
    """The test world, its data keys made (and wrapped) after ``aws-kms`` was configured."""
    return world


def _alias(ns, version: int) -> str:
    return f"alias/bastion/org/{ns.organisation.id}/v{version}"


def test_encrypted_fields_round_trip_with_data_keys_wrapped_by_aws_kms(orgs, aws_kms):
    acme = orgs.acme
    [row] = data_keys_of(acme)
    assert (row.provider, row.kek_id) == ("aws-kms", _alias(acme, 1))
    assert len(bytes(row.wrapped)) > 32  # a KMS ciphertext, not the bare key

    before = unwraps("aws-kms")
    keyring.forget_cached()
    assert email_of(acme) == "pat@acme-supplier.example"
    assert unwraps("aws-kms") == before + 1  # the key came from KMS, not from a cache

    # One KMS key per organisation, described and tagged with it.
    key = aws_kms.describe_key(KeyId=_alias(acme, 1))["KeyMetadata"]
    assert str(acme.organisation.id) in key["Description"] and key["KeyState"] == "Enabled"
    tags = {t["TagKey"]: t["TagValue"] for t in aws_kms.list_resource_tags(KeyId=key["KeyId"])["Tags"]}
    assert tags == {"bastion:organisation": str(acme.organisation.id), "bastion:kek-version": "1"}
    assert aws_kms.describe_key(KeyId=_alias(orgs.globex, 1))["KeyMetadata"]["KeyId"] != key["KeyId"]


def test_destroying_an_organisations_keks_shreds_only_its_values(orgs, aws_kms):
    acme, globex = orgs.acme, orgs.globex
    [backup] = data_keys_of(acme)
    provider = kms.provider()
    assert provider.new_kek(str(acme.organisation.id)) == _alias(acme, 2)
    key_ids = [aws_kms.describe_key(KeyId=_alias(acme, v))["KeyMetadata"]["KeyId"] for v in (1, 2)]

    assert provider.destroy(str(acme.organisation.id)) == 2
    keyring.forget_cached()
    with pytest.raises(envelope.DecryptionFailed):
        email_of(acme)
    with pytest.raises(kms.KeyUnavailable):  # nor does a backup of the wrapped key help
        provider.unwrap(wrapped_of(backup), keyring.wrap_context(str(acme.organisation.id), 1))
    assert email_of(globex) == "pat@globex-supplier.example"

    for key_id in key_ids:
        key = aws_kms.describe_key(KeyId=key_id)["KeyMetadata"]
        assert key["KeyState"] == "PendingDeletion" and not key["Enabled"]
        pending = key["DeletionDate"] - datetime.datetime.now(datetime.UTC)
        assert datetime.timedelta(days=6, hours=23) < pending <= datetime.timedelta(days=7)
    assert provider.destroy(str(acme.organisation.id)) == 0  # nothing of acme's left
    assert provider.destroy(str(globex.organisation.id)) == 1


def test_an_unreachable_kms_is_unavailable_not_a_crash(world, settings):
    settings.BASTION_AWS_KMS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(kms.KeyUnavailable, match="unavailable"):
        kms.provider_for("aws-kms").unwrap(kms.Wrapped("aws-kms", "alias/bastion/org/x/v1", b"x" * 64), b"c")


def test_an_unknown_provider_is_unavailable_not_a_crash(world):
    with pytest.raises(kms.KeyUnavailable):
        kms.provider_for("vault")
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        DataKey.objects.filter(organisation_id=acme.organisation.id).update(provider="vault")
    keyring.forget_cached()
    with pytest.raises(envelope.DecryptionFailed):
        email_of(acme)
