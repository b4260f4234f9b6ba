"""No session fixation: a session id known before signing in is worthless after it."""

from __future__ import annotations

from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.sign_in import sign_in


def test_signing_in_issues_a_new_session_id(world):
    victim = Client()
    victim.get(reverse("account_login"))
    victim.session["planted"] = "by an attacker"  # make sure a pre-login session exists server-side
    planted = victim.session
    planted.save()
    fixed_id = planted.session_key
    victim.cookies[settings.SESSION_COOKIE_NAME] = fixed_id

    response = sign_in(victim, world.acme.users["viewer"].email, PASSWORD)
    assert response.status_code == 302
    assert victim.cookies[settings.SESSION_COOKIE_NAME].value != fixed_id

    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = fixed_id
    assert attacker.get(reverse("console:dashboard", kwargs={"org": "acme"})).status_code == 302  # to sign-in
    assert attacker.get(f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions").status_code == 401
