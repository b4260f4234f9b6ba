"""Sessions: listed to their user, revocable one by one or all others at once, ended by a password
change or reset, by removing a second factor, and by a mid-session change of both network and
browser; a sign-in from a new network on a new device is emailed to the user."""

from __future__ import annotations

import ipaddress

import pytest
from allauth.usersessions.models import UserSession
from django.core import mail
from django.test import Client
from django.urls import reverse

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.sign_in import enrol_totp, reauthenticate, sign_in, signed_in_with_second_factor

pytestmark = pytest.mark.django_db
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CHROME = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 Chrome/150.0 Safari/537.36"


def _browser(user, address="192.0.2.10", agent=FIREFOX) -> Client:
    client = Client(REMOTE_ADDR=address, HTTP_USER_AGENT=agent)
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    return client


def _is_signed_in(client) -> bool:
    return client.get(reverse("usersessions_list")).status_code == 200


def _events(organisation, action):
    with context.tenant_context(organisation.id):
        return personal.shown(list(AuditEvent.objects.filter(chain_id=organisation.id, action=action)))


def test_the_sessions_page_lists_each_browser_and_ends_one(world):
    editor = world.acme.users["editor"]
    laptop, phone = _browser(editor), _browser(editor, "198.51.100.20", CHROME)
    page = laptop.get(reverse("usersessions_list"))
    assert page.status_code == 200
    assert b"192.0.2.10" in page.content and b"198.51.100.20" in page.content and b"Chrome/150.0" in page.content
    phone_session = UserSession.objects.get(user=editor, ip="198.51.100.20")
    response = laptop.post(reverse("usersession_end", kwargs={"session_id": phone_session.pk}))
    assert response.status_code == 302
    assert not _is_signed_in(phone) and _is_signed_in(laptop)
    [event] = _events(world.acme.organisation, "auth.session.revoked")
    assert event.changes["sessions"] == [{"id": phone_session.pk, "ip": "198.51.100.20"}]


def test_nobody_can_end_someone_elses_session(world):
    victim = _browser(world.acme.users["editor"])
    victim_session = UserSession.objects.get(user=world.acme.users["editor"])
    for attacker in (world.acme.users["admin"], world.globex.users["owner"]):
        client = Client()
        signed_in_with_second_factor(client, attacker)
        assert client.post(reverse("usersession_end", kwargs={"session_id": victim_session.pk})).status_code == 404
    assert _is_signed_in(victim)


def test_sign_out_all_other_sessions(world):
    editor = world.acme.users["editor"]
    others = [_browser(editor, f"203.0.113.{n}") for n in range(3)]
    me = _browser(editor)
    assert me.post(reverse("usersessions_list")).status_code == 302
    assert _is_signed_in(me) and not any(_is_signed_in(c) for c in others)
    outsider = _browser(world.globex.users["editor"])
    assert _is_signed_in(outsider)


def test_a_password_change_ends_every_other_session(world):
    editor = world.acme.users["editor"]
    other, me = _browser(editor, "203.0.113.9"), _browser(editor)
    reauthenticate(me, PASSWORD)
    new = "a fresh passphrase for tuesday"
    response = me.post(reverse("account_change_password"),
                       {"oldpassword": PASSWORD, "password1": new, "password2": new})
    assert response.status_code == 302
    assert _is_signed_in(me) and not _is_signed_in(other)
    assert _events(world.acme.organisation, "auth.password.changed")[0].changes["sessions_ended"] == 1


def test_removing_a_second_factor_ends_every_other_session(world):
    editor = world.acme.users["editor"]
    me = _browser(editor)
    enrol_totp(me, PASSWORD)
    other = Client(REMOTE_ADDR="203.0.113.9")
    signed_in_with_second_factor(other, editor)
    assert _is_signed_in(other)
    assert me.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert _is_signed_in(me) and not _is_signed_in(other)


def test_a_session_whose_network_and_browser_both_change_is_ended(world):
    editor = world.acme.users["editor"]
    client = _browser(editor, "192.0.2.10", FIREFOX)
    assert client.get(reverse("usersessions_list"), REMOTE_ADDR="192.0.2.99").status_code == 200  # same /24
    assert client.get(reverse("usersessions_list"), REMOTE_ADDR="198.51.100.7").status_code == 200  # network only
    assert client.get(reverse("usersessions_list"), HTTP_USER_AGENT=CHROME).status_code == 200  # browser only
    stolen = client.get(reverse("usersessions_list"), REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=CHROME)
    assert stolen.status_code == 302 and not _is_signed_in(client)
    [event] = _events(world.acme.organisation, "auth.session.ended_suspicious")
    assert event.changes["network_before"] == "192.0.2.0/24" and event.changes["network_now"] == "198.51.100.0/24"


def test_ending_suspicious_sessions_can_be_switched_off(world, settings):
    settings.BASTION_SESSION_END_ON_CLIENT_CHANGE = False
    client = _browser(world.acme.users["editor"])
    assert client.get(reverse("usersessions_list"), REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT=CHROME).status_code == 200


def test_a_new_network_and_a_new_device_are_emailed(world):
    editor = world.acme.users["editor"]
    _browser(editor, "192.0.2.10", FIREFOX)
    _browser(editor, "198.51.100.7", FIREFOX)  # new network, known browser
    _browser(editor, "192.0.2.10", CHROME)  # known network, new browser
    assert not [m for m in mail.outbox if "new device" in m.subject]
    _browser(editor, "203.0.113.50", "curl/8.0")
    [notice] = [m for m in mail.outbox if "new device" in m.subject]
    assert notice.to == [editor.email] and "203.0.113.50" in notice.body
    _browser(world.globex.users["editor"], "203.0.113.50", "curl/8.0")  # the outsider's first sign-in
    assert len([m for m in mail.outbox if "new device" in m.subject]) == 1


def test_session_activity_is_recorded_at_most_once_a_minute(world, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bastion.identity.sessions import activity as session_activity

    moment = [1_900_000_000]
    monkeypatch.setattr(session_activity, "now", lambda: moment[0])
    client = _browser(world.acme.users["editor"])
    client.get(reverse("usersessions_list"))
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("usersessions_list"), REMOTE_ADDR="192.0.2.77")
    writes = [q["sql"] for q in queries.captured_queries
              if "usersessions_usersession" in q["sql"] and q["sql"].startswith("UPDATE")]
    assert writes == []
    moment[0] += 61
    client.get(reverse("usersessions_list"), REMOTE_ADDR="192.0.2.77")
    assert UserSession.objects.get(user=world.acme.users["editor"]).ip == "192.0.2.77"


def test_a_request_without_a_client_address_is_refused_clearly_not_stored_as_a_placeholder(world):
    """A server that passes no peer address (a Unix socket without a trusted proxy's header) gets a
    403 at sign-in and for a signed-in session, never a 500 from an invalid address in an inet column."""
    editor = world.acme.users["editor"]
    nowhere = Client(REMOTE_ADDR="")
    refused = nowhere.post(reverse("account_login"), {"login": editor.email, "password": PASSWORD})
    assert refused.status_code in (400, 403) and "_auth_user_id" not in nowhere.session
    signed_in = _browser(editor)
    signed_in.defaults["REMOTE_ADDR"] = ""
    assert signed_in.get("/api/v1/orgs/acme/members").status_code in (400, 403)
    assert all(ipaddress.ip_address(ip) for ip in UserSession.objects.values_list("ip", flat=True))
