"""The ``aws-kms`` provider against a real KMS HTTP endpoint (``moto_server``): per-organisation KEKs
that wrap data keys, bound to their organisation, rotated, destroyed, and migrated to from ``local``."""

from __future__ import annotations

import datetime

import boto3
import pytest

from bastion.crypto import envelope, keyfiles, keyring, kms, rotation
from bastion.crypto.models import DataKey, IndexKey
from bastion.tenancy import actions, context
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


def test_a_wrapped_key_opens_only_with_its_own_organisations_kek_and_context(orgs):
    acme, globex = orgs.acme, orgs.globex
    [acme_key], [globex_key] = data_keys_of(acme), data_keys_of(globex)
    acme_context = keyring.wrap_context(str(acme.organisation.id), 1)
    globex_context = keyring.wrap_context(str(globex.organisation.id), 1)
    provider = kms.provider()
    assert len(provider.unwrap(wrapped_of(acme_key), acme_context)) == 32

    stolen = wrapped_of(acme_key)
    attempts = {
        "globex's context": (stolen, globex_context),
        "globex's KEK": (kms.Wrapped("aws-kms", globex_key.kek_id, stolen.blob), acme_context),
        "both": (kms.Wrapped("aws-kms", globex_key.kek_id, stolen.blob), globex_context),
    }
    for attempt, (wrapped, wrap_context) in attempts.items():
        with pytest.raises(kms.KeyUnavailable) as failure:
            provider.unwrap(wrapped, wrap_context)
        assert wrapped.kek_id in str(failure.value), attempt
        assert stolen.blob.hex() not in str(failure.value)


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_wrapped_key_altered_by_one_byte_is_unavailable(orgs, where):
    acme = orgs.acme
    [row] = data_keys_of(acme)
    blob = bytearray(row.wrapped)
    blob[{"first": 0, "middle": len(blob) // 2, "last": -1}[where]] ^= 0x01
    with pytest.raises(kms.KeyUnavailable):
        kms.provider().unwrap(kms.Wrapped("aws-kms", row.kek_id, bytes(blob)),
                              keyring.wrap_context(str(acme.organisation.id), 1))

    # Stored like that, the organisation's values no longer open.
    with context.tenant_context(acme.organisation.id):
        DataKey.objects.filter(pk=row.pk).update(wrapped=bytes(blob))
    keyring.forget_cached()
    with pytest.raises(envelope.DecryptionFailed):
        email_of(acme)


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


def test_rotation_rewraps_under_the_next_kek_and_every_value_stays_readable(orgs):
    acme, globex = orgs.acme, orgs.globex
    [before] = data_keys_of(acme)
    with context.tenant_context(acme.organisation.id):
        assert rotation.new_versions(str(acme.organisation.id)) == 2  # KEK v2, and data key v2

    rows = data_keys_of(acme)
    assert [(r.version, r.provider, r.kek_id) for r in rows] == [(1, "aws-kms", _alias(acme, 2)),
                                                                 (2, "aws-kms", _alias(acme, 2))]
    assert bytes(rows[0].wrapped) != bytes(before.wrapped)
    keyring.forget_cached()
    assert email_of(acme) == "pat@acme-supplier.example"
    assert [r.kek_id for r in data_keys_of(globex)] == [_alias(globex, 1)]
    assert email_of(globex) == "pat@globex-supplier.example"


def test_an_installation_moves_from_local_to_aws_kms_by_rotating(world, settings, moto_endpoint,
                                                                 django_capture_on_commit_callbacks):
    assert {r.provider for ns in (world.acme, world.globex) for r in data_keys_of(ns)} == {"local"}

    _use_aws_kms(settings, moto_endpoint)
    try:
        before = unwraps("aws-kms")
        for ns in (world.acme, world.globex):
            with context.tenant_context(ns.organisation.id):
                rotation.new_versions(str(ns.organisation.id))
            assert [(r.version, r.provider, r.kek_id) for r in data_keys_of(ns)] == [
                (1, "aws-kms", _alias(ns, 1)), (2, "aws-kms", _alias(ns, 1))]
        keyring.forget_cached()
        assert email_of(world.acme) == "pat@acme-supplier.example"
        assert email_of(world.globex) == "pat@globex-supplier.example"
        assert unwraps("aws-kms") == before + 2
        with context.tenant_context(world.acme.organisation.id):
            assert IndexKey.objects.get(organisation_id=world.acme.organisation.id).provider == "aws-kms"

        # Deleting a migrated organisation destroys its KEKs in both places: the old local ones
        # would still open the data keys of backups taken before the move.
        acme_id = str(world.acme.organisation.id)
        backup = wrapped_of(data_keys_of(world.acme)[0])
        assert kms.provider_for("aws-kms").unwrap(backup, keyring.wrap_context(acme_id, 1))
        local_keks = list((keyfiles.key_directory() / "orgs").glob(f"{acme_id}-v*.key"))
        assert local_keks
        with django_capture_on_commit_callbacks(execute=True):
            actions.delete_organisation(world.acme.organisation)
        assert not any(path.exists() for path in local_keks)
        with pytest.raises(kms.KeyUnavailable):
            kms.provider_for("aws-kms").unwrap(backup, keyring.wrap_context(acme_id, 1))
        assert kms.provider_for("aws-kms")._versions(acme_id) == {}
    finally:
        keyring.forget_cached()


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
