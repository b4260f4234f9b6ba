"""Password reset by a time-limited, single-use emailed link that tells nobody whether an account
exists; sign-up with the password policy, email confirmation and no enumeration either."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from allauth.account.forms import default_token_generator
from django.core import mail
from django.test import Client
from django.urls import reverse

from bastion.audit.models import AuditEvent
from bastion.identity import lockout
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.sign_in import accept_invitation, mailed_code, sign_in, signed_in_with_second_factor

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new passphrase 2026"


def _ask_reset(client, email):
    return client.post(reverse("account_reset_password"), {"email": email})


def _reset_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", message.body).group(1)


def _follow_link(client, link):
    form_page = client.get(link)  # allauth moves the key into the session and redirects
    assert form_page.status_code == 302, form_page.status_code
    return form_page.url


def test_reset_answers_alike_for_known_and_unknown_accounts(client, world):
    known = _ask_reset(Client(), world.acme.users["editor"].email)
    unknown = _ask_reset(Client(), "no-such-person@acme.example")
    assert known.status_code == unknown.status_code == 302 and known.url == unknown.url
    to = sorted(m.to[0] for m in mail.outbox)
    assert to == ["editor@acme.example", "no-such-person@acme.example"]
    [unknown_mail] = [m for m in mail.outbox if m.to == ["no-such-person@acme.example"]]
    assert "/accounts/password/reset/key/" not in unknown_mail.body  # no link: there is no account


def test_a_reset_link_works_once_ends_every_session_and_lifts_a_lockout(world):
    editor = world.acme.users["editor"]
    signed_in = Client()
    assert sign_in(signed_in, editor.email, PASSWORD).status_code == 302
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(lockout.ACCOUNT_FAILURES):
        sign_in(attacker, editor.email, "a wrong guess at it")
    assert sign_in(Client(), editor.email, PASSWORD).status_code == 200  # locked out

    _ask_reset(Client(), editor.email)
    link = _reset_link(mail.outbox[-1])
    owner = Client()
    form_url = _follow_link(owner, link)
    done = owner.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert signed_in.get(reverse("usersessions_list")).status_code == 302  # every session ended
    assert sign_in(Client(), editor.email, NEW_PASSWORD).status_code == 302  # the lock is lifted
    with context.tenant_context(world.acme.organisation.id):
        assert AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action="auth.password.reset").exists()

    again = Client()
    reused = again.get(link, follow=True)  # single use: the password it was made for is gone
    assert b"Bad Token" in reused.content or b"invalid" in reused.content.lower()
    assert sign_in(Client(), world.globex.users["editor"].email, PASSWORD).status_code == 302  # the outsider


def test_a_reset_link_expires(world, settings, monkeypatch):
    editor = world.acme.users["editor"]
    _ask_reset(Client(), editor.email)
    link = _reset_link(mail.outbox[-1])
    later = default_token_generator._now() + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 1)
    monkeypatch.setattr(type(default_token_generator), "_now", lambda self: later)
    response = Client().get(link, follow=True)
    assert b"Bad Token" in response.content or b"invalid" in response.content.lower()


def test_sign_up_needs_a_good_password_and_a_confirmed_email(client, world):
    weak = client.post(reverse("account_signup"), {"email": "grace@startup.example", "password1": "passwordpassword",
                                                   "password2": "passwordpassword"})
    assert weak.status_code == 200
    assert [e.code for e in weak.context["form"].errors.as_data()["password1"]] == ["password_common"]
    response = client.post(reverse("account_signup"), {"email": "grace@startup.example", "password1": NEW_PASSWORD,
                                                       "password2": NEW_PASSWORD})
    assert response.status_code == 302 and response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session
    [confirmation] = mail.outbox
    assert confirmation.to == ["grace@startup.example"] and "/accounts/confirm-email/" not in confirmation.body
    elsewhere = sign_in(Client(), "grace@startup.example", NEW_PASSWORD)  # the code is entered where it was asked
    assert elsewhere.status_code == 200 and "_auth_user_id" not in client.session
    assert client.post(reverse("account_email_verification_sent"), {"code": "WRONG1"}).status_code == 200
    assert client.post(reverse("account_email_verification_sent"), {"code": mailed_code(confirmation)}).status_code == 302
    assert sign_in(Client(), "grace@startup.example", NEW_PASSWORD).status_code == 302


def test_sign_up_does_not_reveal_an_existing_account(world):
    fresh = Client().post(reverse("account_signup"), {"email": "fresh@startup.example", "password1": NEW_PASSWORD,
                                                      "password2": NEW_PASSWORD})
    taken = Client().post(reverse("account_signup"), {"email": world.acme.users["editor"].email,
                                                      "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert fresh.status_code == taken.status_code == 302 and fresh.url == taken.url
    [notice] = [m for m in mail.outbox if m.to == [world.acme.users["editor"].email]]
    assert "already" in notice.body.lower()  # the owner of the address hears of it, not the one signing up
    assert world.acme.users["editor"].check_password(PASSWORD)  # the existing account is untouched


def test_sign_up_does_the_same_work_for_an_existing_account(world, settings, monkeypatch):
    from bastion.identity.passwords import BastionArgon2Hasher

    settings.PASSWORD_HASHERS = ["bastion.identity.passwords.BastionArgon2Hasher"]
    computations = []
    original = BastionArgon2Hasher.encode
    monkeypatch.setattr(BastionArgon2Hasher, "encode",
                        lambda self, *a, **k: computations.append("encode") or original(self, *a, **k))
    form = {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    Client().post(reverse("account_signup"), {"email": "fresh@startup.example", **form})
    for_new, computations[:] = list(computations), []
    Client().post(reverse("account_signup"), {"email": world.acme.users["editor"].email, **form})
    assert len(for_new) == len(computations) == 1  # one Argon2id computation either way


def test_an_invited_newcomer_signs_up_confirms_and_accepts(world):
    admin = Client()
    signed_in_with_second_factor(admin, world.acme.users["admin"])
    added = admin.post("/api/v1/orgs/acme/members", json.dumps({"email": "newcomer@acme.example", "role": "viewer"}),
                       content_type="application/json")
    assert added.status_code == 202  # an invitation: no account is made for an address nobody proved
    assert sign_in(Client(), "newcomer@acme.example", NEW_PASSWORD).status_code == 200  # no account yet
    invitation = mail.outbox[-1]
    assert invitation.to == ["newcomer@acme.example"]

    newcomer = Client()
    signed_up = newcomer.post(reverse("account_signup"), {"email": "newcomer@acme.example", "password1": NEW_PASSWORD,
                                                          "password2": NEW_PASSWORD})
    assert signed_up.status_code == 302
    assert signed_up.url == reverse("account_email_verification_sent")
    code = mailed_code(mail.outbox[-1])
    assert newcomer.post(signed_up.url, {"code": code}).status_code == 302  # the address is proven first
    assert sign_in(newcomer, "newcomer@acme.example", NEW_PASSWORD).status_code == 302
    assert accept_invitation(newcomer, invitation).status_code == 302
    assert newcomer.get("/api/v1/orgs/acme/members").status_code == 200