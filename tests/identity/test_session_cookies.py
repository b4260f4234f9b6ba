"""Session cookies: httpOnly, SameSite (Lax, or Strict when configured), Secure over TLS."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.conftest import PASSWORD
from tests.sign_in import sign_in

pytestmark = pytest.mark.django_db


def _signed_in_cookies(secure: bool):
    client = Client()
    response = sign_in(client, "editor@acme.example", PASSWORD, secure=secure)
    assert response.status_code == 302
    return response.cookies


def test_over_tls_the_session_cookie_is_secure_httponly_and_lax(world):
    cookies = _signed_in_cookies(secure=True)
    session, csrf = cookies["sessionid"], cookies["csrftoken"]
    assert session["secure"] is True and session["httponly"] is True and session["samesite"] == "Lax"
    assert csrf["secure"] is True


def test_over_plain_http_it_is_not_marked_secure(world):
    cookies = _signed_in_cookies(secure=False)
    assert not cookies["sessionid"]["secure"] and cookies["sessionid"]["httponly"] is True


def test_samesite_can_be_strict(world, settings):
    settings.SESSION_COOKIE_SAMESITE = "Strict"
    assert _signed_in_cookies(secure=True)["sessionid"]["samesite"] == "Strict"
