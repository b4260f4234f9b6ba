"""Behind a proxy, ``X-Forwarded-Proto`` and ``X-Forwarded-For`` are believed only from the addresses
in ``BASTION_TRUSTED_PROXIES``; from anyone else they are ignored and removed (outsider: a client
that claims another address, or claims HTTPS, changes nothing)."""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.test import Client, RequestFactory

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.hardening import proxies
from bastion.tenancy import context
from tests.conftest import PASSWORD
from tests.live_server import ROOT
from tests.sign_in import sign_in

PROXY = "10.1.2.3"
CLIENT = "203.0.113.7"


@pytest.fixture
def trusted(settings):
    settings.BASTION_TRUSTED_PROXIES = ["10.0.0.0/8", "2001:db8:7::/48"]
    return settings


def _seen(**meta):
    """(is_secure, REMOTE_ADDR, the META the view got) after the middleware."""
    seen = {}

    def view(request):
        seen.update(secure=request.is_secure(), ip=request.META.get("REMOTE_ADDR"), meta=dict(request.META))
        return None

    proxies.TrustedProxyMiddleware(view)(RequestFactory().get("/", **meta))
    return seen["secure"], seen["ip"], seen["meta"]


def test_it_is_the_first_middleware():
    assert django_settings.MIDDLEWARE[0] == "bastion.hardening.proxies.TrustedProxyMiddleware"
    assert django_settings.MIDDLEWARE[1] == "django.middleware.security.SecurityMiddleware"


def test_nobody_is_trusted_by_default():
    assert django_settings.BASTION_TRUSTED_PROXIES == []
    secure, ip, meta = _seen(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=CLIENT)
    assert (secure, ip) == (False, "127.0.0.1")
    assert "HTTP_X_FORWARDED_FOR" not in meta and "HTTP_X_FORWARDED_PROTO" not in meta


def test_a_trusted_proxy_sets_the_scheme_and_the_client_address(trusted):
    secure, ip, _ = _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=CLIENT)
    assert (secure, ip) == (True, CLIENT)
    # "http" from the proxy: the client came over plain HTTP, whatever the proxy's own connection was.
    secure, ip, _ = _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="http", HTTP_X_FORWARDED_FOR=CLIENT, secure=True)
    assert (secure, ip) == (False, CLIENT)
    # Over IPv6, and an IPv4 proxy seen through a dual-stack listener.
    assert _seen(REMOTE_ADDR="2001:db8:7::1", HTTP_X_FORWARDED_PROTO="https",
                 HTTP_X_FORWARDED_FOR="2001:db8:99::5")[:2] == (True, "2001:db8:99::5")
    assert _seen(REMOTE_ADDR=f"::ffff:{PROXY}", HTTP_X_FORWARDED_FOR=CLIENT)[:2] == (False, CLIENT)


def test_an_untrusted_sender_is_not_believed_and_its_headers_are_removed(trusted):
    secure, ip, meta = _seen(REMOTE_ADDR="198.51.100.9", HTTP_X_FORWARDED_PROTO="https", HTTP_X_FORWARDED_FOR=PROXY,
                             HTTP_X_REAL_IP=CLIENT, HTTP_FORWARDED=f"for={CLIENT};proto=https")
    assert (secure, ip) == (False, "198.51.100.9")
    assert not {"HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_REAL_IP", "HTTP_FORWARDED"} & set(meta)


def test_the_client_is_the_right_most_address_that_is_not_a_trusted_proxy(trusted):
    # The client wrote the left part itself ("I am 10.9.9.9, trust me"); our proxies appended the rest.
    chain = f"10.9.9.9, 192.0.2.50, {CLIENT}, 10.4.4.4"
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=chain)[1] == CLIENT
    # Ports and brackets as some proxies write them.
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{CLIENT}:51234")[1] == CLIENT
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="[2001:db8:99::5]:443")[1] == "2001:db8:99::5"
    # Garbage stops the walk at the last hop a trusted proxy vouched for.
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"{CLIENT}, unknown, 10.4.4.4")[1] == "10.4.4.4"
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="<script>")[1] == PROXY
    # Only proxies: the furthest one is the client (an internal request); none: the proxy itself.
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="10.7.7.7, 10.4.4.4")[1] == "10.7.7.7"
    assert _seen(REMOTE_ADDR=PROXY)[1] == PROXY


def test_with_several_schemes_the_trusted_proxys_own_counts(trusted):
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="http, https")[0] is True
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="https, http")[0] is False
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_PROTO="gopher")[0] is False


def test_the_setting_is_read_at_each_request(settings):
    settings.BASTION_TRUSTED_PROXIES = []
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)[1] == PROXY
    settings.BASTION_TRUSTED_PROXIES = [PROXY]
    assert _seen(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)[1] == CLIENT


def test_gunicorn_trusts_no_more_than_the_middleware():
    assert proxies.gunicorn_forwarded_allow_ips([]) == ""
    assert proxies.gunicorn_forwarded_allow_ips(["10.1.2.3", "10.0.0.0/8", "2001:db8::1/128"]) == "10.1.2.3,2001:db8::1"
    for address in proxies.gunicorn_forwarded_allow_ips(["10.1.2.3", "2001:db8::1/128"]).split(","):
        assert proxies.is_trusted(ipaddress.ip_address(address),
                                  proxies.trusted_networks(("10.1.2.3", "2001:db8::1/128")))


def test_a_bad_entry_stops_the_platform_in_one_line(tmp_path):
    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path), "BASTION_TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "check"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "BASTION_TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network" in result.stderr


# Through the whole stack: the address the audit log records, and the session cookie's Secure flag.

def _failed_sign_in_ips(organisation):
    with context.tenant_context(organisation.id):
        return [event.ip for event in personal.shown(list(AuditEvent.objects.filter(chain_id=organisation.id,
                                                                                     action="auth.login.failed")))]


def test_behind_a_trusted_proxy_the_audit_log_records_the_client(world, trusted):
    response = sign_in(Client(), "editor@acme.example", "not the password at all", REMOTE_ADDR=PROXY,
                       HTTP_X_FORWARDED_FOR=f"192.0.2.200, {CLIENT}", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert _failed_sign_in_ips(world.acme.organisation) == [CLIENT]


def test_an_outsider_cannot_choose_the_address_the_audit_log_records(world, trusted):
    """A client that is not our proxy claims to be someone else (and to be our proxy, forwarding)."""
    sign_in(Client(), "editor@acme.example", "not the password at all", REMOTE_ADDR="198.51.100.9",
            HTTP_X_FORWARDED_FOR=f"{CLIENT}, {PROXY}", HTTP_X_REAL_IP=CLIENT, HTTP_X_FORWARDED_PROTO="https")
    assert _failed_sign_in_ips(world.acme.organisation) == ["198.51.100.9"]


def test_by_default_even_a_local_proxy_is_not_believed(world):
    sign_in(Client(), "editor@acme.example", "not the password at all", REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=CLIENT)
    assert _failed_sign_in_ips(world.acme.organisation) == ["127.0.0.1"]


def test_https_at_a_trusted_proxy_makes_the_session_cookie_secure_and_an_outsiders_claim_does_not(world, trusted):
    through_proxy = sign_in(Client(), "editor@acme.example", PASSWORD, REMOTE_ADDR=PROXY,
                            HTTP_X_FORWARDED_FOR=CLIENT, HTTP_X_FORWARDED_PROTO="https")
    assert through_proxy.status_code == 302
    assert through_proxy.cookies["sessionid"]["secure"] is True
    claimed = sign_in(Client(), "editor@acme.example", PASSWORD, REMOTE_ADDR="198.51.100.9",
                      HTTP_X_FORWARDED_PROTO="https")
    assert claimed.status_code == 302
    assert not claimed.cookies["sessionid"]["secure"]
