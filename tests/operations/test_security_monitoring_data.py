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
