"""A wrong second-factor code is counted in bastion_mfa_failures_total (and the outsider's sign-ins
move nothing of it)."""

from __future__ import annotations

from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.urls import reverse

from bastion.operations.metrics import MFA_FAILURES, SIGN_INS
from tests.conftest import PASSWORD
from tests.sign_in import sign_in, totp_code


def test_wrong_codes_are_counted(world):
    editor = world.acme.users["editor"]
    secret = generate_totp_secret()
    TOTP.activate(editor, secret)
    failures, successes = MFA_FAILURES._value.get(), SIGN_INS.labels("succeeded")._value.get()
    client = Client()
    assert sign_in(client, editor.email, PASSWORD).url == reverse("mfa_authenticate")
    wrong = "123456" if totp_code(secret) != "123456" else "654321"
    assert client.post(reverse("mfa_authenticate"), {"code": wrong}).status_code == 200
    assert client.post(reverse("mfa_authenticate"), {"code": wrong}).status_code == 200
    assert MFA_FAILURES._value.get() - failures == 2
    assert SIGN_INS.labels("succeeded")._value.get() == successes  # the password alone is not a sign-in
    assert client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)}).status_code == 302
    assert SIGN_INS.labels("succeeded")._value.get() - successes == 1

    outsider = world.globex.users["viewer"]  # signs in with a password only: no MFA counted
    assert sign_in(Client(), outsider.email, PASSWORD).status_code == 302
    assert MFA_FAILURES._value.get() - failures == 2
