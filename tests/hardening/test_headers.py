"""The headers the seeds promise, on every kind of response: pages, redirects, errors, the API,
static files; HSTS only over TLS; a strict nonce-based CSP; no caching of anything signed in."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.sign_in import signed_in_with_second_factor

pytestmark = pytest.mark.django_db

EXPECTED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
DENIED_FEATURES = ("geolocation", "microphone", "camera", "payment", "usb")


def _responses(world):
    anonymous = Client()
    signed_in = Client()
    signed_in_with_second_factor(signed_in, world.acme.users["viewer"])
    key = {"HTTP_AUTHORIZATION": f"Bearer {world.acme.api_token}"}
    return {
        "sign-in page": anonymous.get("/accounts/login/"),
        "redirect": anonymous.get("/o/acme/"),
        "not found": anonymous.get("/no/such/page/"),
        "console page": signed_in.get("/o/acme/"),
        "API answer": anonymous.get(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions", **key),
        "API error": anonymous.get("/api/v1/orgs/acme/workspaces"),
        "static file": anonymous.get("/static/console/console.css"),
        "security.txt": anonymous.get("/.well-known/security.txt"),
    }


def test_every_kind_of_response_has_the_security_headers(world):
    for kind, response in _responses(world).items():
        for header, value in EXPECTED.items():
            assert response.headers.get(header) == value, f"{kind}: {header}={response.headers.get(header)!r}"
        policy = response.headers.get("Permissions-Policy", "")
        assert all(f"{feature}=()" in policy for feature in DENIED_FEATURES), f"{kind}: {policy}"
        assert "Strict-Transport-Security" not in response.headers, f"{kind}: HSTS over plain HTTP"


def test_hsts_with_preload_only_over_tls(world):
    response = Client().get("/accounts/login/", secure=True)
    hsts = response.headers["Strict-Transport-Security"]
    assert re.fullmatch(r"max-age=(\d+); includeSubDomains; preload", hsts)
    assert int(hsts.split("=")[1].split(";")[0]) >= 31536000


def test_the_csp_is_strict_and_nonce_based(world):
    response = Client().get("/accounts/login/")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'" and policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy["script-src"]).group(1)
    scripts = re.findall(rb"<script[^>]*>", response.content)
    runnable = [tag for tag in scripts if b'type="application/json"' not in tag]
    assert runnable and all(f'nonce="{nonce}"'.encode() in tag for tag in runnable)
    assert policy["report-uri"] == "/csp-report/"
    assert Client().get("/accounts/login/").headers["Content-Security-Policy"] != response.headers[
        "Content-Security-Policy"]  # a fresh nonce each time


def test_nothing_signed_in_is_cached(world):
    responses = _responses(world)
    assert responses["console page"].headers["Cache-Control"] == "no-store"
    assert responses["API answer"].headers["Cache-Control"] == "no-store"
    assert "no-store" not in responses["static file"].headers.get("Cache-Control", "")
