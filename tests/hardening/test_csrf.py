"""CSRF: Django's token, and an Origin (or Referer) allow-list on every state-changing request
that carries the session cookie, console and API alike; API-key requests carry no ambient
credential and are not affected."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from tests.sign_in import signed_in_with_second_factor

pytestmark = pytest.mark.django_db
EVIL = "https://evil.example"


def _browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    signed_in_with_second_factor(client, user)
    client.get("/o/acme/")  # a page, as a browser would have loaded: sets the CSRF cookie
    return client


def _token(client) -> str:
    return client.cookies["csrftoken"].value


def _add_workspace(client, **headers):
    return client.post("/o/acme/workspaces/new/", {"name": "Via the form", "csrfmiddlewaretoken": _token(client)},
                       **headers)


def test_a_same_origin_form_post_with_the_token_works(world):
    client = _browser(world.acme.users["admin"])
    assert _add_workspace(client, HTTP_ORIGIN="http://testserver").status_code == 302


def test_a_cross_origin_post_with_a_valid_session_and_token_is_refused(world):
    client = _browser(world.acme.users["admin"])
    assert _add_workspace(client, HTTP_ORIGIN=EVIL).status_code == 403
    assert _add_workspace(client, HTTP_REFERER=f"{EVIL}/page").status_code == 403  # no Origin: the Referer
    assert _add_workspace(client, HTTP_ORIGIN="null").status_code == 403


def test_a_missing_or_wrong_token_is_refused(world):
    client = _browser(world.acme.users["admin"])
    assert client.post("/o/acme/workspaces/new/", {"name": "No token"}).status_code == 403
    wrong = client.post("/o/acme/workspaces/new/", {"name": "Bad token", "csrfmiddlewaretoken": "x" * 64})
    assert wrong.status_code == 403


def test_a_configured_origin_is_allowed(world, settings):
    settings.BASTION_ALLOWED_ORIGINS = ["https://console.acme.example"]
    settings.CSRF_TRUSTED_ORIGINS = ["https://console.acme.example"]
    client = _browser(world.acme.users["admin"])
    assert _add_workspace(client, HTTP_ORIGIN="https://console.acme.example").status_code == 302


def test_the_api_with_a_session_cookie_is_checked_too(world):
    client = _browser(world.acme.users["admin"])
    body = json.dumps({"name": "Via the API"})
    cross = client.post("/api/v1/orgs/acme/workspaces", body, content_type="application/json", HTTP_ORIGIN=EVIL,
                        HTTP_X_CSRFTOKEN=_token(client))
    assert cross.status_code == 403 and cross.json()["error"]["code"] == "cross_origin"
    no_token = client.post("/api/v1/orgs/acme/workspaces", body, content_type="application/json")
    assert no_token.status_code == 403
    ok = client.post("/api/v1/orgs/acme/workspaces", body, content_type="application/json",
                     HTTP_ORIGIN="http://testserver", HTTP_X_CSRFTOKEN=_token(client))
    assert ok.status_code == 201


def test_an_api_key_carries_no_ambient_credential_so_origin_does_not_matter(world):
    client = Client(enforce_csrf_checks=True)
    response = client.get(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions",
                          HTTP_AUTHORIZATION=f"Bearer {world.acme.api_token}", HTTP_ORIGIN=EVIL)
    assert response.status_code == 200
    outsider = client.get(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions",
                          HTTP_AUTHORIZATION=f"Bearer {world.globex.api_token}", HTTP_ORIGIN=EVIL)
    assert outsider.status_code in (401, 404)
