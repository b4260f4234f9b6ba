"""An owner's first sign-in (issue 21, part 5): straight to setting up a second factor, with one
message saying why and no second password prompt; then the recovery codes, with a "continue" that
needs confirming they were saved; then the console. Later sensitive changes still ask again."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.sign_in import sign_in, totp_code

pytestmark = pytest.mark.django_db


def test_the_first_sign_in_goes_straight_to_setting_up_a_second_factor(world):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    owner = Client()
    signed_in = sign_in(owner, world.acme.users["owner"].email, PASSWORD)
    assert signed_in.status_code == 302 and signed_in.url == "/accounts/2fa/totp/activate/"
    set_up = owner.get(signed_in.url)
    assert set_up.status_code == 200  # not the password again
    shown = [str(m) for m in get_messages(set_up.wsgi_request)]
    assert not any("Successfully signed in" in m for m in shown), shown
    assert any(m.startswith("Set up your second factor") for m in shown), shown
    secret = owner.session[SECRET_SESSION_KEY]
    activated = owner.post(signed_in.url, {"code": totp_code(secret)})
    assert activated.status_code == 302 and activated.url == reverse("mfa_view_recovery_codes")
    codes = owner.get(activated.url).content.decode()
    assert 'id="codes_saved"' in codes and "required" in codes.split('id="codes_saved"')[1].split(">")[0]
    assert f'action="{reverse("console:home")}"' in codes
    assert owner.get(reverse("console:home"), {"codes_saved": "on"}).status_code in (200, 302)


def test_an_account_with_nothing_to_set_up_signs_in_as_before(world):
    viewer = Client()
    signed_in = sign_in(viewer, world.acme.users["viewer"].email, PASSWORD)
    assert signed_in.status_code == 302 and signed_in.url != "/accounts/2fa/totp/activate/"


def test_a_sensitive_change_later_asks_for_the_password_again(world, settings):
    settings.ACCOUNT_REAUTHENTICATION_TIMEOUT = 0  # "later": the sign-in is no longer recent
    owner = Client()
    sign_in(owner, world.acme.users["owner"].email, PASSWORD)
    again = owner.get("/accounts/2fa/totp/activate/")
    assert again.status_code == 302 and again.url.startswith(reverse("account_reauthenticate"))
