"""Acceptance, in Chromium against ``bastion demo`` sending its email to a real SMTP server
(aiosmtpd): a support staff member made with ``bastion staff create`` asks for access to acme; acme's
admin approves from the emailed link; the staff member opens a record; the admin sees that exact
record in the feed, then revokes the grant and the staff member's next request is a 404; globex is
never reachable. No CSP violation on any page. (The clock-driven end of a grant, two approvers,
self-approval and break-glass are in test_access_grants.py, with an injected clock.)"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.csp_watch import violations, watched_page
from tests.live_server import ROOT, demo_server
from tests.sign_in import totp_code
from tests.support_access.conftest import body

STAFF = "support@bastion-staff.example"
ADMIN = "admin@acme.example"
ACME_RECORD = """
import django; django.setup()
from bastion.records.models import EmissionRecord
from bastion.tenancy import context
from bastion.tenancy.models import Organisation
with context.platform_scope():
    acme = Organisation.objects.get(slug="acme")
with context.tenant_context(acme.id):
    record = EmissionRecord.objects.filter(organisation=acme).order_by("id").first()
    print(f"/o/acme/p/{record.project_id}/emissions/{record.id}/ {record.activity}")
"""
SET_PASSWORD = """
import django, os; django.setup()
from django.contrib.auth import get_user_model
user = get_user_model().objects.get(email=os.environ["STAFF_EMAIL"])
user.set_password(os.environ["BASTION_DEMO_PASSWORD"]); user.save()
"""


@pytest.fixture(scope="module")
def live(smtp_inbox):
    env = {"BASTION_SMTP_HOST": "127.0.0.1", "BASTION_SMTP_PORT": str(smtp_inbox.port),
           "BASTION_SMTP_STARTTLS": "false", "BASTION_JOBS_IMMEDIATE": "true"}
    with demo_server(env) as server:
        yield server


def _python(live, code: str, **env) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**live.env, "DJANGO_SETTINGS_MODULE": "bastion.settings", **env})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def _sign_in_and_enrol(browser, live, email: str):
    """A context signed in as ``email`` through the forms, with an authenticator app enrolled at first sign-in."""
    page = watched_page(browser, live.url)
    page.goto("/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", live.password)
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_load_state()
    page.goto("/accounts/2fa/totp/activate/")
    if "/accounts/reauthenticate/" in page.url:
        page.fill("input[name=password]", live.password)
        page.click("form[action='/accounts/reauthenticate/'] button[type=submit]")
        page.wait_for_load_state()
    secret = page.locator("#authenticator_secret").input_value()
    page.fill("input[name=code]", totp_code(secret))
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    page.secret = secret
    return page


def _confirm_second_factor_if_asked(page, steps: int) -> None:
    if "/accounts/2fa/reauthenticate/" in page.url:
        page.fill("input[name=code]", totp_code(page.secret, steps=steps))
        page.click("main form button[type=submit]")
        page.wait_for_load_state()


def test_staff_ask_admin_approves_from_the_email_staff_reads_admin_sees_it_then_revokes(browser, live, smtp_inbox):
    made = subprocess.run([sys.executable, "-m", "bastion.cli", "staff", "create", STAFF, "--role", "support"],
                          cwd=ROOT, env=live.env, capture_output=True, text=True, timeout=120)
    assert made.returncode == 0 and "platform staff, role support" in made.stdout, made.stderr[-2000:]
    _python(live, SET_PASSWORD + "\nprint('ok')", STAFF_EMAIL=STAFF)
    record_path, activity = _python(live, ACME_RECORD).split(" ", 1)

    staff = _sign_in_and_enrol(browser, live, STAFF)
    assert staff.goto(record_path).status == 404  # no grant yet
    assert staff.goto("/o/acme/").status == 404
    staff.goto("/staff/")
    _confirm_second_factor_if_asked(staff, steps=1)
    expect(staff.locator("h1")).to_have_text("Staff console")
    smtp_inbox.messages.clear()
    staff.fill("#id_organisation", "acme")
    staff.select_option("#id_reason", "support")
    staff.fill("#id_reference", "ZD-90210")
    staff.fill("#id_details", "Customer cannot see their March figures")
    staff.click("#ask-form button[type=submit]")
    staff.wait_for_load_state()
    expect(staff.locator("table.access-requests")).to_contain_text("Waiting for approval")

    # acme's admin follows the link emailed to them and approves.
    [mail] = [m for m in smtp_inbox.messages if ADMIN in m["To"]]
    link = re.search(r"https?://[^/\s]+(/o/acme/security/access/\S+/\?t=\S+)", body(mail)).group(1)
    admin = _sign_in_and_enrol(browser, live, ADMIN)
    admin.goto(link)
    expect(admin.locator(".access-request-detail")).to_contain_text("ZD-90210")
    admin.click("form[action$='/approve/'] button")
    admin.wait_for_load_state()
    expect(admin.locator(".access-grant")).to_contain_text(STAFF)

    # The admin keeps the security page open; the staff member reads the record; globex stays out of reach.
    admin.goto("/o/acme/security/access/")
    assert staff.goto(record_path).status == 200
    expect(staff.locator("main")).to_contain_text(activity)
    assert staff.goto("/o/globex/").status == 404
    assert staff.goto(record_path.replace("/o/acme/", "/o/globex/")).status == 404

    # The admin sees that exact record appear in the live feed without reloading, and revokes: the
    # next request is refused.
    expect(admin.locator("table.access-feed")).to_contain_text(f"GET {record_path}", timeout=20_000)
    admin.click(".access-grant form button")
    admin.wait_for_load_state()
    expect(admin.locator("main")).to_contain_text("No open grants.")
    assert staff.goto(record_path).status == 404
    assert violations(staff) == [] and violations(admin) == []
    staff.context.close()
    admin.context.close()
