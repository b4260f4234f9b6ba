"""Platform staff and organisation members signed in to Chromium against a ``bastion demo`` server
(``tests.live_server``), through the real forms: staff made with ``bastion staff create``; an
authenticator app enrolled at first sign-in, or a passkey on Chromium's virtual authenticator (the
security role signs in with a security key or passkey only). Every page is CSP-watched."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.csp_watch import watched_page
from tests.live_server import ROOT
from tests.sign_in import sign_out_in_browser, totp_code

VIRTUAL_AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                         "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}
MAKE_STAFF = """
import json, os
from bastion.cli import main
for email, role in json.loads(os.environ["STAFF"]):
    try:
        main(["staff", "create", email, "--role", role])
    except SystemExit as exit:
        assert not exit.code, exit.code
    from django.contrib.auth import get_user_model
    user = get_user_model().objects.get(email=email)
    user.set_password(os.environ["BASTION_DEMO_PASSWORD"]); user.save()
"""


def run_python(live, code: str, **env) -> str:
    """Run ``code`` with the server's environment (its database, data dir and clock); what it printed."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**live.env, "DJANGO_SETTINGS_MODULE": "bastion.settings", **env})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def make_staff(live, *staff: tuple[str, str]) -> None:
    """``bastion staff create EMAIL --role ROLE`` for each (email, role), through the command line's
    own entry point, then the demo password set for each account: one interpreter for all of them."""
    said = run_python(live, MAKE_STAFF, STAFF=json.dumps(staff))
    for email, role in staff:
        assert f"{email}: platform staff, role {role}" in said, said


def _password_sign_in(page, live, email: str) -> None:
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", live.password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()


def _reauthenticate_if_asked(page, live) -> None:
    if "/accounts/reauthenticate/" in page.url:
        page.fill("input[name=password]", live.password)
        page.click("form[action='/accounts/reauthenticate/'] button[type=submit]")
        page.wait_for_load_state()


def with_totp(browser, live, email: str):
    """A page signed in as ``email`` with an authenticator app enrolled at first sign-in (``page.secret``)."""
    page = watched_page(browser, live.url)
    _password_sign_in(page, live, email)
    page.goto("/accounts/2fa/totp/activate/")
    _reauthenticate_if_asked(page, live)
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("input[name=code]", totp_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.secret = secret
    page.totp_steps = 0
    return page


def confirm_second_factor_if_asked(page) -> None:
    """Answer the authenticator-app step-up, each time with a code of a later period (a code is used once)."""
    if "/accounts/2fa/reauthenticate/" in page.url:
        page.totp_steps += 1
        page.fill("input[name=code]", totp_code(page.secret, steps=page.totp_steps))
        page.click("main form button[type=submit]")
        page.wait_for_load_state()


def with_a_passkey(browser, live, email: str):
    """A page signed in as ``email`` with a passkey: added at /accounts/2fa/webauthn/add/ after a
    password sign-in, then signed out and in again with the passkey alone."""
    page = watched_page(browser, live.url)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    _password_sign_in(page, live, email)
    page.goto("/accounts/2fa/webauthn/add/")
    _reauthenticate_if_asked(page, live)
    page.fill("input[name=name]", "Staff key")
    page.check("input[name=passwordless]")
    with page.expect_navigation():
        page.click("#mfa_webauthn_add")
    sign_out_in_browser(page)
    page.wait_for_load_state()
    page.goto("/accounts/login/")
    page.click("#passkey_login")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)  # a goto before this aborts the sign-in
    page.wait_for_load_state()
    return page
