"""Acceptance, in Chromium against ``bastion demo`` sending its email to a real SMTP server (aiosmtpd):
a researcher files a report at /security and lands on their private page; a security staff member
(made with ``bastion staff create``, signed in with a passkey on Chromium's virtual authenticator)
acknowledges it — the reporter gets the email — assesses it with a CVSS 4.0 vector and resolves it;
the acknowledgments page credits the researcher. No CSP violation on any page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.csp_watch import violations, watched_page
from tests.live_server import demo_server
from tests.staff_in_browser import make_staff, with_a_passkey
from tests.support_access.conftest import body

STAFF = "sec@bastion-staff.example"
RESEARCHER = "ada@research.example"
VECTOR = "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:H/VI:N/VA:N/SC:N/SI:N/SA:N"


@pytest.fixture(scope="module")
def live(smtp_inbox):
    env = {"BASTION_SMTP_HOST": "127.0.0.1", "BASTION_SMTP_PORT": str(smtp_inbox.port),
           "BASTION_SMTP_STARTTLS": "false", "BASTION_JOBS_IMMEDIATE": "true"}
    with demo_server(env) as server:
        yield server


def _staff_with_a_passkey(browser, live):
    make_staff(live, (STAFF, "security"))
    return with_a_passkey(browser, live, STAFF)  # the security role signs in with a security key or passkey only


def test_a_researcher_reports_staff_acknowledge_assess_resolve_and_credit(browser, live, smtp_inbox):
    smtp_inbox.messages.clear()
    researcher = watched_page(browser, live.url)
    researcher.goto("/security")
    expect(researcher.locator("main")).to_contain_text("Safe harbour")
    researcher.fill("#title", "Supplier contacts readable by viewers")
    researcher.fill("#affected", "/o/acme/p/…/suppliers/")
    researcher.fill("#description", "A viewer can read supplier contact emails through the CSV export.")
    researcher.fill("#reporter_email", RESEARCHER)
    researcher.check("#wants_credit")
    researcher.fill("#credit_name", "Ada L.")
    researcher.click("#submit-report")
    researcher.wait_for_load_state()
    reference = researcher.locator("#reference").inner_text()
    assert re.fullmatch(r"BSR-\d{4}-\w{6}", reference)
    private_url = researcher.url
    [received] = [m for m in smtp_inbox.messages if RESEARCHER in m["To"]]
    assert reference in received["Subject"] and private_url.split("/security/")[1] in body(received)

    staff = _staff_with_a_passkey(browser, live)
    staff.goto("/staff/reports/")
    expect(staff.locator("table.reports")).to_contain_text(reference)
    staff.click(f"tr[data-report='{reference}'] a")
    staff.wait_for_load_state()
    staff.fill("form:has(#move-acknowledged) input[name=note]", "Thank you: we are reproducing it.")
    staff.click("#move-acknowledged")
    staff.wait_for_load_state()
    expect(staff.locator("#status")).to_have_text("Acknowledged")
    acknowledged = [m for m in smtp_inbox.messages if RESEARCHER in m["To"] and "acknowledged" in m["Subject"]]
    assert len(acknowledged) == 1
    staff.fill("#triage-form input[name=cvss_vector]", VECTOR)
    staff.click("#triage")
    staff.wait_for_load_state()
    expect(staff.locator("#severity")).to_contain_text("CVSS:4.0/AV:N")
    staff.click("#move-resolved")
    staff.wait_for_load_state()
    expect(staff.locator("#status")).to_have_text("Resolved")

    researcher.goto(private_url)
    expect(researcher.locator("#status")).to_have_text("Resolved")
    expect(researcher.locator(".messages")).to_contain_text("reproducing")
    researcher.goto("/security/acknowledgments")
    expect(researcher.locator("#acknowledgments")).to_contain_text("Ada L.")
    assert violations(researcher) == [] and violations(staff) == []
    researcher.context.close()
    staff.context.close()
