"""Brute-force defence: a progressive lockout per account and per address that answers the same for
unknown accounts, expires, and never touches another organisation's users."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.identity import lockout
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.sign_in import sign_in, sign_out

LOCKED = b"Too many failed sign-in attempts"


@pytest.fixture
def clock(monkeypatch):
    """The lockout's clock, moved by hand."""
    moment = [timezone.now()]
    monkeypatch.setattr(lockout, "now", lambda: moment[0])

    def advance(**delta):
        moment[0] += datetime.timedelta(**delta)
    return advance


def _sign_in(client, email, password, address="198.51.100.7"):
    return sign_in(client, email, password, REMOTE_ADDR=address)


def _signed_in(response) -> bool:
    return response.status_code == 302


def test_five_failures_lock_the_account_for_15_minutes_then_30(client, world, clock):
    email = world.acme.users["editor"].email
    for _ in range(5):
        assert not _signed_in(_sign_in(client, email, "wrong password guess"))
    refused = _sign_in(client, email, PASSWORD)
    assert refused.status_code == 200 and LOCKED in refused.content and b"15 minutes" in refused.content
    clock(minutes=14)
    assert LOCKED in _sign_in(client, email, PASSWORD).content
    clock(minutes=2)
    for _ in range(5):
        _sign_in(client, email, "wrong password guess")
    assert b"30 minutes" in _sign_in(client, email, PASSWORD).content  # progressive
    clock(minutes=31)
    assert _signed_in(_sign_in(client, email, PASSWORD))


def test_a_success_clears_the_count(client, world, clock):
    email = world.acme.users["editor"].email
    for _ in range(4):
        _sign_in(client, email, "wrong password guess")
    assert _signed_in(_sign_in(client, email, PASSWORD))
    sign_out(client)
    for _ in range(4):
        _sign_in(client, email, "wrong password guess")
    assert _signed_in(_sign_in(client, email, PASSWORD))


def test_an_unknown_account_locks_with_the_same_answer(client, world, clock):
    answers = []
    for email in ("nobody@acme.example", world.acme.users["viewer"].email):
        for _ in range(5):
            _sign_in(client, email, "wrong password guess")
        response = _sign_in(client, email, "another guess here")
        answers.append(response.content.split(b'name="csrfmiddlewaretoken"')[0])
        assert LOCKED in response.content
    assert answers[0] == answers[1]


def test_the_lock_is_the_accounts_alone(client, world, clock):
    for _ in range(5):
        _sign_in(client, world.acme.users["editor"].email, "wrong password guess")
    # Neither a colleague nor the outsider is affected, from the same address.
    assert _signed_in(_sign_in(client, world.acme.users["viewer"].email, PASSWORD))
    sign_out(client)
    assert _signed_in(_sign_in(client, world.globex.users["editor"].email, PASSWORD))


def test_an_address_spraying_many_accounts_is_locked_out(client, world, clock):
    for i in range(lockout.ADDRESS_FAILURES):
        _sign_in(client, f"user{i}@spray.example", "Summer2025!Summer", address="203.0.113.9")
    assert LOCKED in _sign_in(client, world.acme.users["viewer"].email, PASSWORD, address="203.0.113.9").content
    assert _signed_in(_sign_in(client, world.acme.users["viewer"].email, PASSWORD, address="192.0.2.44"))


def test_locks_and_refusals_are_audited_for_the_organisation(client, world, clock):
    email = world.acme.users["editor"].email
    for _ in range(6):
        _sign_in(client, email, "wrong password guess")
    with context.tenant_context(world.acme.organisation.id):
        actions = list(AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action__startswith="auth.")
                       .order_by("seq").values_list("action", flat=True))
        locked = personal.shown_one(AuditEvent.objects.get(chain_id=world.acme.organisation.id,
                                                           action="auth.lockout.started"))
    assert actions == ["auth.login.failed"] * 5 + ["auth.lockout.started", "auth.login.refused"]
    assert locked.changes == {"username": email, "locked": ["account"]} and locked.ip == "198.51.100.7"
    with context.tenant_context(world.globex.organisation.id):
        assert not AuditEvent.objects.filter(chain_id=world.globex.organisation.id, action__startswith="auth.").exists()
