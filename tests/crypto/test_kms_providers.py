"""The contract every KMS provider outside the data directory keeps, run against each real one:
``aws-kms`` on moto_server's KMS endpoint and ``pkcs11`` on a SoftHSM2 token initialised by the test.
A wrapped data key opens only under its own organisation's KEK and context, one altered byte makes it
unavailable, rotation re-wraps under the next KEK, and an installation moves onto the provider from
``local`` by rotating. What differs between providers (how keys look in the KMS or the token, how they
are destroyed, how an outage shows) is in test_aws_kms.py and test_pkcs11_kms.py."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bastion.crypto import envelope, hsm, keyfiles, keyring, kms, rotation
from bastion.crypto.models import DataKey, IndexKey
from bastion.tenancy import actions, context
from tests.crypto.org_keys import data_keys_of, email_of, unwraps, wrapped_of


@dataclass
class Provider:
    name: str
    kek_prefix: str  # how the provider names an organisation's KEK: prefix + "<org id>/v<version>"
    configure: Callable[[], None]

    def kek_id(self, ns, version: int) -> str:
        return f"{self.kek_prefix}{ns.organisation.id}/v{version}"


@pytest.fixture(params=["aws-kms", "pkcs11"])
def provider(request, settings, monkeypatch, moto_endpoint, softhsm_token):
    """The provider under test, not yet configured (``configure()`` switches the installation to it)."""
    def use_aws_kms() -> None:
        settings.BASTION_KMS = "aws-kms"
        settings.BASTION_AWS_KMS_ENDPOINT_URL = moto_endpoint
        keyring.forget_cached()

    def use_pkcs11() -> None:
        settings.BASTION_KMS = "pkcs11"
        settings.BASTION_PKCS11_LIBRARY = softhsm_token.library
        settings.BASTION_PKCS11_TOKEN_LABEL = softhsm_token.label
        monkeypatch.setenv("BASTION_PKCS11_PIN_FILE", str(softhsm_token.pin_file))
        keyring.forget_cached()

    if request.param == "aws-kms":
        yield Provider("aws-kms", "alias/bastion/org/", use_aws_kms)
    else:
        yield Provider("pkcs11", "bastion/org/", use_pkcs11)
    keyring.forget_cached()
    hsm.forget_session()


@pytest.fixture
def configured(provider):
    provider.configure()
    return provider


@pytest.fixture
def orgs(configured, world):
    """The test world, its data keys made (and wrapped) after the provider was configured (fixtures
    are set up in the order they are named: ``configured`` before ``world``)."""
    return world


def test_a_wrapped_key_opens_only_with_its_own_organisations_kek_and_context(provider, orgs):
    acme, globex = orgs.acme, orgs.globex
    [acme_key], [globex_key] = data_keys_of(acme), data_keys_of(globex)
    assert (acme_key.provider, acme_key.kek_id) == (provider.name, provider.kek_id(acme, 1))
    acme_context = keyring.wrap_context(str(acme.organisation.id), 1)
    globex_context = keyring.wrap_context(str(globex.organisation.id), 1)
    chosen = kms.provider()
    assert len(chosen.unwrap(wrapped_of(acme_key), acme_context)) == 32

    stolen = wrapped_of(acme_key)
    attempts = {
        "globex's context": (stolen, globex_context),
        "globex's KEK": (kms.Wrapped(provider.name, globex_key.kek_id, stolen.blob), acme_context),
        "both": (kms.Wrapped(provider.name, globex_key.kek_id, stolen.blob), globex_context),
        "not a KEK of ours": (kms.Wrapped(provider.name, f"{provider.kek_prefix}{uuid.uuid4()}/v1", stolen.blob),
                              acme_context),
    }
    for attempt, (wrapped, wrap_context) in attempts.items():
        with pytest.raises(kms.KeyUnavailable) as failure:
            chosen.unwrap(wrapped, wrap_context)
        assert wrapped.kek_id in str(failure.value), attempt
        assert stolen.blob.hex() not in str(failure.value)


@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_a_wrapped_key_altered_by_one_byte_is_unavailable(provider, orgs, where):
    acme = orgs.acme
    [row] = data_keys_of(acme)
    blob = bytearray(row.wrapped)
    blob[{"first": 0, "middle": len(blob) // 2, "last": -1}[where]] ^= 0x01
    with pytest.raises(kms.KeyUnavailable):
        kms.provider().unwrap(kms.Wrapped(provider.name, row.kek_id, bytes(blob)),
                              keyring.wrap_context(str(acme.organisation.id), 1))

    # Stored like that, the organisation's values no longer open.
    with context.tenant_context(acme.organisation.id):
        DataKey.objects.filter(pk=row.pk).update(wrapped=bytes(blob))
    keyring.forget_cached()
    with pytest.raises(envelope.DecryptionFailed):
        email_of(acme)


def test_rotation_rewraps_under_the_next_kek_and_every_value_stays_readable(provider, orgs):
    acme, globex = orgs.acme, orgs.globex
    [before] = data_keys_of(acme)
    with context.tenant_context(acme.organisation.id):
        assert rotation.new_versions(str(acme.organisation.id)) == 2  # KEK v2, and data key v2

    rows = data_keys_of(acme)
    assert [(r.version, r.provider, r.kek_id) for r in rows] == [(1, provider.name, provider.kek_id(acme, 2)),
                                                                 (2, provider.name, provider.kek_id(acme, 2))]
    assert bytes(rows[0].wrapped) != bytes(before.wrapped)
    keyring.forget_cached()
    assert email_of(acme) == "pat@acme-supplier.example"
    assert [r.kek_id for r in data_keys_of(globex)] == [provider.kek_id(globex, 1)]
    assert email_of(globex) == "pat@globex-supplier.example"


def test_an_installation_moves_from_local_by_rotating(world, provider, django_capture_on_commit_callbacks):
    assert {r.provider for ns in (world.acme, world.globex) for r in data_keys_of(ns)} == {"local"}
    provider.configure()
    before = unwraps(provider.name)
    for ns in (world.acme, world.globex):
        with context.tenant_context(ns.organisation.id):
            rotation.new_versions(str(ns.organisation.id))
        assert [(r.version, r.provider, r.kek_id) for r in data_keys_of(ns)] == [
            (1, provider.name, provider.kek_id(ns, 1)), (2, provider.name, provider.kek_id(ns, 1))]
    keyring.forget_cached()
    assert email_of(world.acme) == "pat@acme-supplier.example"
    assert email_of(world.globex) == "pat@globex-supplier.example"
    assert unwraps(provider.name) == before + 2
    with context.tenant_context(world.acme.organisation.id):
        assert IndexKey.objects.get(organisation_id=world.acme.organisation.id).provider == provider.name

    # Deleting a migrated organisation destroys its KEKs in both places: the old local ones would
    # still open the data keys of backups taken before the move.
    acme_id = str(world.acme.organisation.id)
    backup = wrapped_of(data_keys_of(world.acme)[0])
    assert kms.provider_for(provider.name).unwrap(backup, keyring.wrap_context(acme_id, 1))
    local_keks = list((keyfiles.key_directory() / "orgs").glob(f"{acme_id}-v*.key"))
    assert local_keks
    with django_capture_on_commit_callbacks(execute=True):
        actions.delete_organisation(world.acme.organisation)
    assert not any(path.exists() for path in local_keks)
    with pytest.raises(kms.KeyUnavailable):
        kms.provider_for(provider.name).unwrap(backup, keyring.wrap_context(acme_id, 1))
    assert email_of(world.globex) == "pat@globex-supplier.example"
