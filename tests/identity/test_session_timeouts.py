"""Sessions end after 30 idle minutes, and 8 hours after sign-in however busy; the outsider's
session is not touched by either."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bastion.audit.models import AuditEvent
from bastion.identity.sessions import timeouts as session_timeouts
from bastion.tenancy import context


@pytest.fixture
def clock(monkeypatch):
    moment = [1_800_000_000.0]
    monkeypatch.setattr(session_timeouts, "now", lambda: moment[0])

    def advance(seconds):
        moment[0] += seconds
    return advance


def _dashboard(client, org="acme"):
    return client.get(reverse("console:dashboard", kwargs={"org": org}))


def test_an_idle_session_ends_after_30_minutes(client_for, world, clock):
    client = client_for(world.acme.users["viewer"])
    assert _dashboard(client).status_code == 200
    clock(29 * 60)
    assert _dashboard(client).status_code == 200  # activity keeps it alive …
    clock(29 * 60)
    assert _dashboard(client).status_code == 200
    clock(31 * 60)
    response = _dashboard(client)  # … idleness does not
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    with context.tenant_context(world.acme.organisation.id):
        assert AuditEvent.objects.filter(chain_id=world.acme.organisation.id, action="auth.logout").exists()


def test_a_busy_session_still_ends_8_hours_after_sign_in(client_for, world, clock):
    client = client_for(world.acme.users["viewer"])
    outsider = client_for(world.globex.users["viewer"])
    for _ in range(16):
        clock(29 * 60)
        assert _dashboard(client).status_code == 200
    assert _dashboard(outsider, "globex").status_code == 302  # idle for 7 h 44 min: gone
    clock(20 * 60)  # 8 h 04 min after sign-in
    assert _dashboard(client).status_code == 302
    assert client.get(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions").status_code == 401


def test_the_idle_limit_is_configurable(client_for, world, clock, settings):
    settings.BASTION_SESSION_IDLE_SECONDS = 5 * 60
    client = client_for(world.acme.users["viewer"])
    clock(6 * 60)
    assert _dashboard(client).status_code == 302
