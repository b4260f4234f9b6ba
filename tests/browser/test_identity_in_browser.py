"""Identity in a real browser against ``bastion demo``: sign-up with email confirmation, an owner
made to enrol TOTP and then signing in with it, a WebAuthn security key and a passkey on Chromium's
virtual authenticator, and a session revoked from another browser."""

from __future__ import annotations

import re
import secrets

from playwright.sync_api import expect

from tests.sign_in import sign_out_in_browser, totp_code

VIRTUAL_AUTHENTICATOR = {"protocol": "ctap2", "transport": "internal", "hasResidentKey": True,
                         "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True}


def _new_page(browser, live_demo, user_agent=None):
    context = browser.new_context(base_url=live_demo.url, user_agent=user_agent) if user_agent else \
        browser.new_context(base_url=live_demo.url)
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    return page


def _password_step(page, email, password):
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()


def _reauthenticate_if_asked(page, password):
    if "/accounts/reauthenticate/" in page.url:
        page.fill("input[name=password]", password)
        page.click("form[action='/accounts/reauthenticate/'] button[type=submit]")
        page.wait_for_load_state()


def _mailed_code(live_demo, after: int) -> str:
    """The newest email verification code the demo emailed (written to the server log)."""
    codes = re.findall(r"Please enter it in your open browser window\.\s+(\S+)",
                       live_demo.log.read_text(errors="replace")[after:])
    assert codes, "no email verification code in the server log"
    return codes[-1]


def test_sign_up_confirm_the_email_and_sign_in(browser, live_demo):
    page = _new_page(browser, live_demo)
    email, password = f"grace{secrets.token_hex(3)}@startup.example", "a long and unusual passphrase 77"
    log_size = len(live_demo.log.read_text(errors="replace"))
    page.goto("/accounts/signup/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", password)
    page.fill("input[name=password2]", password)
    page.click("form[action='/accounts/signup/'] button[type=submit]")
    expect(page.locator("body")).to_contain_text("Enter Email Verification Code")
    page.fill("input[name=code]", _mailed_code(live_demo, log_size))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("header")).to_contain_text(email)  # the code proved the address: signed in
    assert page.console_errors == []
    page.context.close()


def test_an_owner_must_enrol_totp_and_then_signs_in_with_it(browser, live_demo):
    page = _new_page(browser, live_demo)
    _password_step(page, "owner@globex.example", live_demo.password)
    # The first sign-in goes straight to setting up a second factor: one message, no password again.
    assert page.url.endswith("/accounts/2fa/totp/activate/"), page.url
    expect(page.locator("body")).to_contain_text("Set up your second factor")
    expect(page.locator("body")).not_to_contain_text("Successfully signed in")
    page.goto("/o/globex/")  # anything else: the MFA page first
    assert page.url.endswith("/accounts/2fa/")
    expect(page.locator("main")).to_contain_text("requires two-factor authentication")

    page.goto("/accounts/2fa/totp/activate/")
    assert "/accounts/reauthenticate/" not in page.url  # the password was typed a moment ago
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("input[name=code]", totp_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text("Recovery Codes")
    page.click("#codes_continue")  # the way on needs confirming the codes were saved
    assert "/accounts/2fa/recovery-codes/" in page.url
    page.check("#codes_saved")
    page.click("#codes_continue")
    page.wait_for_url(re.compile(r"/o/globex/"))
    expect(page.locator("nav.main-nav")).to_contain_text("Members")

    sign_out_in_browser(page)  # sign out
    page.wait_for_load_state()
    _password_step(page, "owner@globex.example", live_demo.password)
    assert "/accounts/2fa/authenticate/" in page.url
    page.fill("input[name=code]", totp_code(secret, steps=1))
    page.click("main form[action='/accounts/2fa/authenticate/'] button[type=submit]")
    page.wait_for_load_state()
    assert "/o/globex/" in page.url
    assert page.console_errors == []
    page.context.close()


def test_a_security_key_is_added_and_signs_in_then_works_as_a_passkey(browser, live_demo):
    page = _new_page(browser, live_demo)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send("WebAuthn.addVirtualAuthenticator", {"options": VIRTUAL_AUTHENTICATOR})
    _password_step(page, "editor@globex.example", live_demo.password)
    page.goto("/accounts/2fa/webauthn/add/")
    _reauthenticate_if_asked(page, live_demo.password)
    page.fill("input[name=name]", "Virtual key")
    page.check("input[name=passwordless]")
    with page.expect_navigation():
        page.click("#mfa_webauthn_add")  # the browser's authenticator makes the key; the form posts it
    page.goto("/accounts/2fa/webauthn/")
    expect(page.locator("main")).to_contain_text("Virtual key")

    sign_out_in_browser(page)
    page.wait_for_load_state()
    _password_step(page, "editor@globex.example", live_demo.password)
    assert "/accounts/2fa/authenticate/" in page.url
    page.click("#mfa_webauthn_authenticate")
    page.wait_for_url(re.compile(r"/o/globex/"))

    sign_out_in_browser(page)  # and with no password at all: a passkey
    page.wait_for_load_state()
    page.goto("/accounts/login/")
    page.click("#passkey_login")
    page.wait_for_url(re.compile(r"/o/globex/"))
    expect(page.locator("header")).to_contain_text("Editor Globex")
    assert page.console_errors == []
    page.context.close()


def test_a_session_revoked_from_another_browser_is_signed_out(browser, live_demo):
    laptop = _new_page(browser, live_demo, user_agent="Laptop browser/1.0")
    phone = _new_page(browser, live_demo, user_agent="Phone browser/1.0")
    for page in (laptop, phone):
        _password_step(page, "viewer@globex.example", live_demo.password)
        assert "/o/globex/" in page.url
    laptop.goto("/accounts/sessions/")
    laptop.locator("tr", has_text="Phone browser/1.0").locator("button").click()
    laptop.wait_for_load_state()
    expect(laptop.locator("main")).to_contain_text("The session was ended")
    expect(laptop.locator("main table")).not_to_contain_text("Phone browser/1.0")

    phone.reload()
    assert "/accounts/login/" in phone.url
    laptop.goto("/o/globex/")
    assert "/o/globex/" in laptop.url  # the revoking browser stays signed in
    laptop.context.close()
    phone.context.close()
