"""The ``pkcs11`` provider against a real PKCS#11 token (SoftHSM2, initialised by the test): per-
organisation KEKs that never leave the token, bound to their organisation, rotated, destroyed, moved to
from ``local`` by rotating — the same suite as ``aws-kms`` (test_aws_kms.py)."""

from __future__ import annotations

import pkcs11
import pytest
from pkcs11 import Attribute, ObjectClass

from bastion.crypto import envelope, hsm, keyfiles, keyring, kms, rotation
from bastion.crypto.models import DataKey, IndexKey
from bastion.records.evidence import open_evidence
from bastion.records.models import EvidenceFile
from bastion.tenancy import actions, context
from tests.crypto.org_keys import data_keys_of, email_of, unwraps, wrapped_of


@pytest.fixture
def orgs(pkcs11_kms, world):
    """The test world, its data keys made (and wrapped) after ``pkcs11`` was configured."""
    return world


@pytest.fixture
def token_objects(softhsm_token):
    """The labels of the AES keys in the token, read through a session of the test's own."""
    def read() -> dict[str, dict]:
        token = pkcs11.lib(softhsm_token.library).get_token(token_label=softhsm_token.label)
        try:
            session = token.open(user_pin=softhsm_token.pin_file.read_text().strip())
        except pkcs11.exceptions.UserAlreadyLoggedIn:  # by the provider, in this process
            session = token.open()
        with session:
            return {key.label: {"extractable": key[Attribute.EXTRACTABLE], "sensitive": key[Attribute.SENSITIVE]}
                    for key in session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY})}
    return read


def _label(ns, version: int) -> str:
    return f"bastion/org/{ns.organisation.id}/v{version}"


def test_encrypted_fields_and_files_round_trip_with_data_keys_wrapped_in_the_hsm(orgs, token_objects):
    acme = orgs.acme
    [row] = data_keys_of(acme)
    assert (row.provider, row.kek_id) == ("pkcs11", _label(acme, 1))
    assert len(bytes(row.wrapped)) == 12 + 32 + 16  # nonce, the sealed key, the GCM tag: not the bare key

    before = unwraps("pkcs11")
    keyring.forget_cached()
    assert email_of(acme) == "pat@acme-supplier.example"
    assert unwraps("pkcs11") == before + 1  # the key came from the token, not from a cache
    with context.tenant_context(acme.organisation.id):
        evidence = EvidenceFile.objects.get(id=acme.evidence.id)
        with open_evidence(evidence) as stream:
            assert stream.read()

    # One key object per organisation, which the token will not hand out.
    objects = token_objects()
    assert objects[_label(acme, 1)] == {"extractable": False, "sensitive": True}
    assert _label(orgs.globex, 1) in objects


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
        "globex's KEK": (kms.Wrapped("pkcs11", globex_key.kek_id, stolen.blob), acme_context),
        "both": (kms.Wrapped("pkcs11", globex_key.kek_id, stolen.blob), globex_context),
        "not a label of ours": (kms.Wrapped("pkcs11", "some/other/key", stolen.blob), acme_context),
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
        kms.provider().unwrap(kms.Wrapped("pkcs11", row.kek_id, bytes(blob)),
                              keyring.wrap_context(str(acme.organisation.id), 1))

    with context.tenant_context(acme.organisation.id):
        DataKey.objects.filter(pk=row.pk).update(wrapped=bytes(blob))
    keyring.forget_cached()
    with pytest.raises(envelope.DecryptionFailed):
        email_of(acme)


def test_destroying_an_organisations_keks_shreds_only_its_values_backups_included(orgs, token_objects):
    acme, globex = orgs.acme, orgs.globex
    [backup] = data_keys_of(acme)
    provider = kms.provider()
    assert provider.new_kek(str(acme.organisation.id)) == _label(acme, 2)
    assert {_label(acme, 1), _label(acme, 2)} <= set(token_objects())

    assert provider.destroy(str(acme.organisation.id)) == 2
    keyring.forget_cached()
    with pytest.raises(envelope.DecryptionFailed):
        email_of(acme)
    with pytest.raises(kms.KeyUnavailable, match="not in the HSM"):  # nor does a backup of the wrapped key help
        provider.unwrap(wrapped_of(backup), keyring.wrap_context(str(acme.organisation.id), 1))
    assert email_of(globex) == "pat@globex-supplier.example"
    assert not any(label.startswith(f"bastion/org/{acme.organisation.id}/") for label in token_objects())
    assert provider.destroy(str(acme.organisation.id)) == 0
    assert provider.destroy(str(globex.organisation.id)) == 1


def test_rotation_rewraps_under_the_next_kek_and_every_value_stays_readable(orgs):
    acme, globex = orgs.acme, orgs.globex
    [before] = data_keys_of(acme)
    with context.tenant_context(acme.organisation.id):
        assert rotation.new_versions(str(acme.organisation.id)) == 2

    rows = data_keys_of(acme)
    assert [(r.version, r.provider, r.kek_id) for r in rows] == [(1, "pkcs11", _label(acme, 2)),
                                                                 (2, "pkcs11", _label(acme, 2))]
    assert bytes(rows[0].wrapped) != bytes(before.wrapped)
    keyring.forget_cached()
    assert email_of(acme) == "pat@acme-supplier.example"
    assert [r.kek_id for r in data_keys_of(globex)] == [_label(globex, 1)]
    assert email_of(globex) == "pat@globex-supplier.example"


def test_an_installation_moves_from_local_to_the_hsm_by_rotating(world, settings, monkeypatch, softhsm_token,
                                                                  django_capture_on_commit_callbacks):
    assert {r.provider for ns in (world.acme, world.globex) for r in data_keys_of(ns)} == {"local"}
    settings.BASTION_KMS = "pkcs11"
    settings.BASTION_PKCS11_LIBRARY = softhsm_token.library
    settings.BASTION_PKCS11_TOKEN_LABEL = softhsm_token.label
    monkeypatch.setenv("BASTION_PKCS11_PIN_FILE", str(softhsm_token.pin_file))
    try:
        for ns in (world.acme, world.globex):
            with context.tenant_context(ns.organisation.id):
                rotation.new_versions(str(ns.organisation.id))
            assert [(r.version, r.provider, r.kek_id) for r in data_keys_of(ns)] == [
                (1, "pkcs11", _label(ns, 1)), (2, "pkcs11", _label(ns, 1))]
        keyring.forget_cached()
        assert email_of(world.acme) == "pat@acme-supplier.example"
        assert email_of(world.globex) == "pat@globex-supplier.example"
        with context.tenant_context(world.acme.organisation.id):
            assert IndexKey.objects.get(organisation_id=world.acme.organisation.id).provider == "pkcs11"

        # Deleting a migrated organisation destroys its KEKs in both places.
        acme_id = str(world.acme.organisation.id)
        backup = wrapped_of(data_keys_of(world.acme)[0])
        local_keks = list((keyfiles.key_directory() / "orgs").glob(f"{acme_id}-v*.key"))
        assert local_keks
        with django_capture_on_commit_callbacks(execute=True):
            actions.delete_organisation(world.acme.organisation)
        assert not any(path.exists() for path in local_keks)
        with pytest.raises(kms.KeyUnavailable):
            kms.provider_for("pkcs11").unwrap(backup, keyring.wrap_context(acme_id, 1))
    finally:
        keyring.forget_cached()
        hsm.forget_session()


def test_a_wrong_pin_or_missing_token_is_unavailable_and_never_names_the_pin(orgs, settings, monkeypatch, tmp_path):
    [row] = data_keys_of(orgs.acme)
    context_bytes = keyring.wrap_context(str(orgs.acme.organisation.id), 1)
    wrong = tmp_path / "pin"
    wrong.write_text("0000-not-the-pin")
    wrong.chmod(0o600)
    monkeypatch.setenv("BASTION_PKCS11_PIN_FILE", str(wrong))
    hsm.forget_session()
    with pytest.raises(kms.KeyUnavailable, match="cannot be opened") as failure:
        kms.provider().unwrap(wrapped_of(row), context_bytes)
    assert "0000-not-the-pin" not in str(failure.value) and failure.value.__cause__ is None

    monkeypatch.undo()
    settings.BASTION_PKCS11_TOKEN_LABEL = "no-such-token"
    with pytest.raises(kms.KeyUnavailable, match="no-such-token"):
        kms.provider().unwrap(wrapped_of(row), context_bytes)
