"""Data rules: a burst of exports or evidence downloads by one user, and an API key used from a
network it never used — each through the real API and console."""

from __future__ import annotations

from django.test import Client

from bastion.operations.security_monitoring import rules
from tests.operations.conftest import admins_of, everyone_of, recipients


def _export_url(org) -> str:
    return f"/api/v1/orgs/{org.slug}/projects/{org.project.id}/export?kind=emissions"


def _download_url(org) -> str:
    return f"/o/{org.slug}/p/{org.project.id}/evidence/{org.evidence.id}/download/"


def test_a_burst_of_exports_and_downloads_by_one_user(world, monitoring, client_for, settings):
    settings.BASTION_SECURITY_EXPORT_BURST = 5
    acme, globex = world.acme, world.globex
    editor = client_for(acme.users["editor"])
    for _ in range(3):
        assert editor.get(_export_url(acme)).status_code == 200
    for _ in range(3):
        assert editor.get(_download_url(acme)).status_code == 200
    monitoring.scan()

    [alert] = monitoring.new(acme, rules.EXPORT_BURST)
    assert alert.subject == f"user {acme.users['editor'].email}"
    assert alert.event_count == 6 and "records.exported" in alert.summary and "evidence.downloaded" in alert.summary
    assert recipients() == admins_of(acme) and not recipients() & everyone_of(globex)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.EXPORT_BURST)) == 1


def test_exports_below_the_burst_or_by_several_users_raise_nothing(world, monitoring, client_for, settings):
    settings.BASTION_SECURITY_EXPORT_BURST = 5
    acme = world.acme
    for role in ("editor", "viewer"):
        client = client_for(acme.users[role])
        for _ in range(3):
            assert client.get(_export_url(acme)).status_code == 200
    monitoring.scan()
    assert monitoring.new(acme, rules.EXPORT_BURST) == []


def _with_key(org, ip: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {org.api_token}", REMOTE_ADDR=ip)


def test_an_api_key_used_from_a_new_network(world, monitoring):
    acme, globex = world.acme, world.globex
    assert _with_key(acme, "198.51.100.10").get(_export_url(acme)).status_code == 200  # its first use: the baseline
    assert _with_key(acme, "198.51.3.10").get(_export_url(acme)).status_code == 200  # the same /16
    assert _with_key(globex, "198.51.100.10").get(_export_url(globex)).status_code == 200
    monitoring.scan()
    assert monitoring.new(acme, rules.API_KEY_NEW_NETWORK) == []

    for _ in range(2):  # two uses from the new network: one alert
        assert _with_key(acme, "203.0.113.99").get(_export_url(acme)).status_code == 200
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.API_KEY_NEW_NETWORK)
    assert acme.api_key.public_id in alert.subject and "203.0.0.0/16" in alert.subject
    assert len(alert.events) == 1
    assert recipients() == admins_of(acme)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.API_KEY_NEW_NETWORK)) == 1


def _a_minute_later(org) -> None:
    """As if the key's last recorded use were two minutes ago (its use is recorded once a minute)."""
    import datetime

    from django.utils import timezone

    from bastion.crypto.models import ApiKey
    from bastion.tenancy import context

    with context.tenant_context(org.organisation.id):
        ApiKey.objects.filter(id=org.api_key.id).update(last_used_at=timezone.now() - datetime.timedelta(minutes=2))


def test_an_api_key_that_only_reads_seen_from_a_new_network(world, monitoring):
    acme, globex = world.acme, world.globex
    emissions = f"/api/v1/orgs/{acme.slug}/projects/{acme.project.id}/emissions"
    assert _with_key(acme, "198.51.100.10").get(emissions).status_code == 200  # first use: no address before
    _a_minute_later(acme)
    assert _with_key(acme, "198.51.7.1").get(emissions).status_code == 200  # another address, the same /16
    monitoring.scan()
    assert monitoring.new(acme, rules.API_KEY_NEW_NETWORK) == []

    _a_minute_later(acme)
    assert _with_key(acme, "203.0.113.99").get(emissions).status_code == 200
    assert _with_key(acme, "203.0.113.99").get(emissions).status_code == 200  # within the minute: not again
    monitoring.scan()
    [alert] = monitoring.new(acme, rules.API_KEY_NEW_NETWORK)
    assert "203.0.0.0/16" in alert.subject and "api_key.address_changed" in alert.summary
    assert recipients() == admins_of(acme)
    assert monitoring.new(globex, None) == []
    monitoring.replay()
    assert len(monitoring.new(acme, rules.API_KEY_NEW_NETWORK)) == 1
