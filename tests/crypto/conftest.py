from __future__ import annotations

import os

import pytest

from bastion.crypto import hsm, keyring
from tests.peers.softhsm import Token, make_token


@pytest.fixture(scope="session")
def softhsm_token() -> Token:
    """One SoftHSM2 token for the session. SoftHSM reads SOFTHSM2_CONF once, when this process first
    loads the module, so it is set for the whole session (nothing else here uses SoftHSM)."""
    token = make_token()
    os.environ["SOFTHSM2_CONF"] = str(token.conf)
    return token


@pytest.fixture
def pkcs11_kms(settings, monkeypatch, softhsm_token):
    """``BASTION_KMS=pkcs11`` on the session's token; no unwrapped key or session kept across tests."""
    settings.BASTION_KMS = "pkcs11"
    settings.BASTION_PKCS11_LIBRARY = softhsm_token.library
    settings.BASTION_PKCS11_TOKEN_LABEL = softhsm_token.label
    monkeypatch.setenv("BASTION_PKCS11_PIN_FILE", str(softhsm_token.pin_file))
    keyring.forget_cached()
    yield softhsm_token
    keyring.forget_cached()
    hsm.forget_session()
