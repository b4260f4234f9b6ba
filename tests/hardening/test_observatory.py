"""MDN's HTTP Observatory (npm's @mdn/mdn-http-observatory, as outside reviewers run it) scores the
real ``bastion serve`` over TLS at least 120 (A+) on the sign-in page and on a signed-in page."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import ssl
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest

from tests.live_server import ROOT, tls_server
from tests.peers.certificates import make_ca_and_leaf
from tests.peers.identity_providers import NODE_DIR

PASSWORD = "observatory test passphrase 31"
MAKE_MEMBER = f"""
from django.contrib.auth import get_user_model
from bastion.tenancy import actions, context
users = get_user_model().objects
owner = users.create_user(email="owner@scan.example", password=None, email_verified=True)
editor = users.create_user(email="editor@scan.example", password={PASSWORD!r}, email_verified=True)
organisation = actions.create_organisation(name="Scan Ltd", slug="scan", owner=owner)
with context.tenant_context(organisation.id):
    actions.add_membership(organisation, user=editor, role="editor")
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    ca, cert, key = make_ca_and_leaf(tmp_path_factory.mktemp("pki"))
    with tls_server(cert, key, ca) as live:
        subprocess.run([sys.executable, "-m", "bastion.cli", "manage", "shell", "-c", MAKE_MEMBER], cwd=ROOT,
                       env=live.env, check=True, capture_output=True)
        live.ca = ca
        yield live


def _session_cookie(server) -> str:
    """Sign in through the real form over HTTPS, as a browser would; returns ``sessionid=…``."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                         urllib.request.HTTPSHandler(context=ssl.create_default_context(
                                             cafile=str(server.ca))))
    page = opener.open(server.url + "/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode({"login": "editor@scan.example", "password": PASSWORD,
                                   "csrfmiddlewaretoken": token}).encode()
    request = urllib.request.Request(server.url + "/accounts/login/", data=form,
                                     headers={"Referer": server.url + "/accounts/login/"})
    opener.open(request)
    [session] = [c for c in jar if c.name == "sessionid"]
    return f"sessionid={session.value}"


def _observatory(server, path: str, cookie: str = "") -> dict:
    port = urllib.parse.urlsplit(server.url).port
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(server.ca)}
    result = subprocess.run(["node", "observatory.mjs", "localhost", str(port), path, *([cookie] if cookie else [])],
                            cwd=NODE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _explain(report: dict) -> str:
    return json.dumps({name: test for name, test in report["tests"].items() if test["scoreModifier"] or
                       not test["pass"]}, indent=1)


def test_the_sign_in_page_scores_a_plus(server):
    report = _observatory(server, "/accounts/login/")
    print(f"HTTP Observatory, sign-in page: {report['grade']} {report['score']}")
    assert report["score"] >= 120 and report["grade"] == "A+", _explain(report)


def test_a_signed_in_page_scores_a_plus(server):
    cookie = _session_cookie(server)
    report = _observatory(server, "/o/scan/", cookie)
    print(f"HTTP Observatory, signed-in page: {report['grade']} {report['score']}")
    assert report["score"] >= 120 and report["grade"] == "A+", _explain(report)
    assert report["tests"]["cookies"]["pass"]
