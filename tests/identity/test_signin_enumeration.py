"""Signing in does not tell whether an account exists: the same answer, and the same work (one
Argon2id computation) for an unknown email as for a wrong password."""

from __future__ import annotations

import re

from bastion.identity.passwords import BastionArgon2Hasher
from tests.sign_in import sign_in

REAL_HASHERS = ["bastion.identity.passwords.BastionArgon2Hasher", "django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def _answer(client, email) -> bytes:
    response = sign_in(client, email, "not the password 123")
    assert response.status_code == 200
    # The CSRF token, the echoed email and the CSP nonce differ from one answer to the next.
    return re.sub(rb'(value|nonce)="[^"]*"', rb'\1=""', response.content)


def test_unknown_account_and_wrong_password_look_alike(client, world, settings, monkeypatch):
    settings.PASSWORD_HASHERS = REAL_HASHERS
    user = world.acme.users["editor"]
    user.set_password("the editor's real passphrase")
    user.save(update_fields=["password"])
    computations = []
    original = BastionArgon2Hasher.encode, BastionArgon2Hasher.verify
    monkeypatch.setattr(BastionArgon2Hasher, "encode",
                        lambda self, *a, **k: computations.append("encode") or original[0](self, *a, **k))
    monkeypatch.setattr(BastionArgon2Hasher, "verify",
                        lambda self, *a, **k: computations.append("verify") or original[1](self, *a, **k))

    known = _answer(client, user.email)
    work_for_known, computations[:] = list(computations), []
    unknown = _answer(client, "no-such-person@acme.example")
    assert known == unknown
    assert len(work_for_known) == 1 and len(computations) == 1  # one Argon2id computation either way
