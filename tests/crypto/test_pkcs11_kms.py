"""The ``pkcs11`` provider against a real PKCS#11 token (SoftHSM2, initialised by the test): per-
organisation KEKs that never leave the token, bound to their organisation, rotated, destroyed, moved to
from ``local`` by rotating; the contract both providers keep is test_kms_providers.py."""

from __future__ import annotations

import pkcs11
import pytest
from pkcs11 import Attribute, ObjectClass

from bastion.crypto import envelope, hsm, keyring, kms
from bastion.records.evidence import open_evidence
from bastion.records.models import EvidenceFile
from bastion.tenancy import context
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
