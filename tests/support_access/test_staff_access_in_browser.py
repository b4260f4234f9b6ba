"""Acceptance of staff access (issue 18), in Chromium against one ``bastion demo`` server sending its
email to a real SMTP server (aiosmtpd), its grants' clock moved by the test (``tests/shifted_clock``):

- a support staff member made with ``bastion staff create`` asks for access to acme; acme's admin
  approves from the emailed link; the staff member opens a record; the admin sees that exact record
  in the feed, then revokes the grant and the staff member's next request is a 404;
- at the end of a grant (the clock moved past it) the next request is a 404, and the job (run with
  the same clock) puts the ended grant up for review, which the admin marks;
- acme's owner chooses two approvers: one approval does not open the grant, a second vote by the
  same admin is refused, the owner's approval opens it;
- nobody approves their own request: the asker cannot reach acme's approval, nor open their own
  break-glass request;
- break-glass: a security staff member (passkey) asks; a second one (passkey) approves; the grant
  opens at once, acme's admins are emailed at once, and once it ends it waits for both reviews;
- globex is never reachable by the staff and hears of nothing; globex's admin cannot see acme's requests.

No CSP violation on any page."""

from __future__ import annotations

import os
import re
import time

import pytest
from playwright.sync_api import expect

from tests.csp_watch import violations
from tests.live_server import ROOT, demo_server
from tests.staff_in_browser import (
    confirm_second_factor_if_asked,
    make_staff,
    run_python,
    with_a_passkey,
    with_totp,
)
from tests.support_access.conftest import body

SUPPORT = "support@bastion-staff.example"
SECURITY = "security@bastion-staff.example"
SECURITY2 = "security2@bastion-staff.example"
ADMIN, OWNER, GLOBEX_ADMIN = "admin@acme.example", "owner@acme.example", "admin@globex.example"
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
STAFF_ACCESS_JOB = """
import django; django.setup()
from bastion.operations.tasks import staff_access_minutely
print(staff_access_minutely.call_local())
"""


@pytest.fixture(scope="module")
def live(smtp_inbox, tmp_path_factory):
    offset_file = tmp_path_factory.mktemp("grants-clock") / "offset-seconds"
    offset_file.write_text("0")
    env = {"BASTION_SMTP_HOST": "127.0.0.1", "BASTION_SMTP_PORT": str(smtp_inbox.port),
           "BASTION_SMTP_STARTTLS": "false", "BASTION_JOBS_IMMEDIATE": "true",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "tests" / "shifted_clock"),
                                                       os.environ.get("PYTHONPATH")])),
           "BASTION_TEST_CLOCK_OFFSET_FILE": str(offset_file)}
    with demo_server(env) as server:
        server.clock_offset_file = offset_file
        yield server


@pytest.fixture(scope="module")
def pages(browser, live):
    """The people of these tests, each signed in once in their own browser context."""
    make_staff(live, (SUPPORT, "support"), (SECURITY, "security"), (SECURITY2, "security"))
    people = {"support": with_totp(browser, live, SUPPORT), "admin": with_totp(browser, live, ADMIN),
              "owner": with_totp(browser, live, OWNER), "globex_admin": with_totp(browser, live, GLOBEX_ADMIN),
              "security": with_a_passkey(browser, live, SECURITY), "security2": with_a_passkey(browser, live, SECURITY2)}
    yield people
    for page in people.values():
        page.context.close()


@pytest.fixture(scope="module")
def record(live):
    path, activity = run_python(live, ACME_RECORD).splitlines()[-1].split(" ", 1)
    return path, activity


def _move_clock(live, minutes: float) -> None:
    """The server's grants' clock (web and job processes) ``minutes`` further ahead."""
    offset_file = live.clock_offset_file
    offset_file.write_text(str(float(offset_file.read_text()) + minutes * 60))


def _ask(staff, reference: str, *, minutes: int = 60, reason: str = "support", break_glass: bool = False) -> str:
    """Ask for read-only access to acme through the staff console's form; the new request's id."""
    for _attempt in range(2):
        staff.goto("/staff/")
        confirm_second_factor_if_asked(staff)
        staff.fill("#id_organisation", "acme")
        staff.select_option("#id_reason", reason)
        staff.fill("#id_reference", reference)
        staff.fill("#id_details", "Customer cannot see their March figures")
        staff.fill("#id_minutes", str(minutes))
        if break_glass:
            staff.check("#id_break_glass")
        staff.click("#ask-form button[type=submit]")
        staff.wait_for_load_state()
        if "/accounts/2fa/reauthenticate/" not in staff.url:
            break
        confirm_second_factor_if_asked(staff)  # the step-up lapsed: confirm, then send the form again
    asked = re.search(r"Access requested \(([0-9a-f-]{36})\)", staff.locator(".messages").inner_text())
    assert asked, staff.locator("main").inner_text()
    return asked.group(1)


def _click(page, selector: str, message: str) -> None:
    page.click(selector)
    page.wait_for_load_state()
    expect(page.locator(".messages")).to_contain_text(message)


def _approve(admin, request_id: str, message: str = "Approved.") -> None:
    admin.goto("/o/acme/security/access/")
    _click(admin, f".access-request[data-request='{request_id}'] form[action$='/approve/'] button", message)


def _mails(inbox, address: str, *texts: str, wait: float = 0) -> list:
    """The emails to ``address`` saying each of ``texts``, waiting up to ``wait`` seconds for one."""
    deadline = time.monotonic() + wait
    while True:
        found = [m for m in inbox.messages if address in m["To"] and all(t in body(m) for t in texts)]
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(0.2)


def _post_as(page, path: str):
    """A form POST from ``page``'s session with its CSRF token (hand-made, as a curious user would); redirects followed."""
    token = page.locator("input[name=csrfmiddlewaretoken]").first.input_value()
    return page.request.post(path, form={"csrfmiddlewaretoken": token})


def _no_violations(pages) -> None:
    for name, page in pages.items():
        assert violations(page) == [], name


def test_staff_ask_admin_approves_from_the_email_staff_reads_admin_sees_it_then_revokes(pages, live, smtp_inbox,
                                                                                        record):
    staff, record_path, activity = pages["support"], *record
    assert staff.goto(record_path).status == 404  # no grant yet
    assert staff.goto("/o/acme/").status == 404
    staff.goto("/staff/")
    confirm_second_factor_if_asked(staff)
    expect(staff.locator("h1")).to_have_text("Staff console")
    request_id = _ask(staff, "ZD-90210")
    expect(staff.locator(f"tr[data-request='{request_id}']")).to_contain_text("Waiting for approval")

    # acme's admin follows the link emailed to them and approves; globex hears nothing.
    [mail] = _mails(smtp_inbox, ADMIN, f"Grant: {request_id}")
    assert not _mails(smtp_inbox, "globex", request_id)
    link = re.search(r"https?://[^/\s]+(/o/acme/security/access/\S+/\?t=\S+)", body(mail)).group(1)
    admin = pages["admin"]
    admin.goto(link)
    expect(admin.locator(".access-request-detail")).to_contain_text("ZD-90210")
    _click(admin, "form[action$='/approve/'] button", "Approved.")
    expect(admin.locator(f".access-grant[data-request='{request_id}']")).to_contain_text(SUPPORT)

    # The admin keeps the security page open; the staff member reads the record; globex stays out of reach.
    admin.goto("/o/acme/security/access/")
    assert staff.goto(record_path).status == 200
    expect(staff.locator("main")).to_contain_text(activity)
    assert staff.goto("/o/globex/").status == 404
    assert staff.goto(record_path.replace("/o/acme/", "/o/globex/")).status == 404

    # The admin sees that exact record appear in the live feed without reloading, and revokes: the
    # next request is refused.
    expect(admin.locator("table.access-feed")).to_contain_text(f"GET {record_path}", timeout=20_000)
    _click(admin, f".access-grant[data-request='{request_id}'] form button", "Revoked.")
    assert staff.goto(record_path).status == 404
    _no_violations(pages)


def test_at_the_end_of_the_grant_the_staff_member_gets_404_and_it_waits_for_review(pages, live, smtp_inbox, record):
    staff, admin, record_path = pages["support"], pages["admin"], record[0]
    request_id = _ask(staff, "ZD-31337", minutes=30)
    _approve(admin, request_id)
    assert staff.goto(record_path).status == 200
    _move_clock(live, 29)
    assert staff.goto(record_path).status == 200  # a minute left
    _move_clock(live, 2)
    assert staff.goto(record_path).status == 404
    assert staff.goto("/o/acme/").status == 404
    staff.goto("/staff/")
    expect(staff.locator(f"tr[data-request='{request_id}'] a")).to_have_count(0)  # no "Open acme" link

    # The minutely job, on the same clock, asks acme's admins and security staff to review it.
    run_python(live, STAFF_ACCESS_JOB)
    assert _mails(smtp_inbox, ADMIN, f"Grant: {request_id}", "has ended", wait=10)
    assert _mails(smtp_inbox, SECURITY, f"Grant: {request_id}", "has ended", wait=10)
    assert not _mails(smtp_inbox, "globex", request_id)
    admin.goto("/o/acme/security/access/")
    unreviewed = admin.locator(f".access-unreviewed[data-request='{request_id}']")
    expect(unreviewed).to_contain_text("organisation: not reviewed")
    _click(admin, f".access-unreviewed[data-request='{request_id}'] button", "Marked reviewed.")
    expect(unreviewed).to_contain_text(f"organisation: reviewed by {ADMIN}")
    _no_violations(pages)


def test_two_approvers_one_approval_does_not_open_the_grant_the_second_does(pages, live, record):
    staff, admin, owner, record_path = pages["support"], pages["admin"], pages["owner"], record[0]
    owner.goto("/o/acme/security/access/")
    owner.select_option("#approvers", "2")
    _click(owner, "form[action$='/policy/'] button", "Approval policy saved.")
    try:
        request_id = _ask(staff, "ZD-22222")
        _approve(admin, request_id)
        expect(admin.locator(f".access-request[data-request='{request_id}']")).to_contain_text("(1/2 approvals)")
        assert staff.goto(record_path).status == 404  # one of two: not yet
        _approve(admin, request_id, "You have approved this request already: another admin must too.")

        # globex's admin sees nothing of it; acme's owner gives the second approval and the grant opens.
        globex_admin = pages["globex_admin"]
        assert globex_admin.goto(f"/o/acme/security/access/{request_id}/").status == 404
        assert globex_admin.goto("/o/acme/security/access/").status == 404
        globex_admin.goto("/o/globex/security/access/")
        expect(globex_admin.locator("main")).not_to_contain_text(SUPPORT)
        _approve(owner, request_id)
        assert staff.goto(record_path).status == 200
        owner.goto(f"/o/acme/security/access/{request_id}/")
        expect(owner.locator(".access-request-detail")).to_contain_text(f"2 of 2: {ADMIN} {OWNER}")
        owner.goto("/o/acme/security/access/")
        _click(owner, f".access-grant[data-request='{request_id}'] form button", "Revoked.")
        assert staff.goto(record_path).status == 404
    finally:
        owner.goto("/o/acme/security/access/")
        owner.select_option("#approvers", "1")
        _click(owner, "form[action$='/policy/'] button", "Approval policy saved.")
    _no_violations(pages)


def test_nobody_approves_their_own_request(pages, live, record):
    staff = pages["support"]
    request_id = _ask(staff, "ZD-55555")
    # Staff are no organisation's admins: acme's approval is not there for them, by link or by form.
    assert staff.goto(f"/o/acme/security/access/{request_id}/").status == 404
    assert staff.goto("/o/acme/security/access/").status == 404
    staff.goto("/staff/")
    assert _post_as(staff, f"/o/acme/security/access/{request_id}/approve/").status == 404
    assert staff.goto(record[0]).status == 404
    expect(staff.locator("main")).not_to_contain_text("Customer cannot see")  # the 404 page says nothing
    pages["admin"].goto("/o/acme/security/access/")
    expect(pages["admin"].locator(f".access-request[data-request='{request_id}']")).to_contain_text(
        "(0/1 approvals)")
    _click(pages["admin"], f".access-request[data-request='{request_id}'] form[action$='/deny/'] button", "Denied.")
    _no_violations(pages)


def test_break_glass_a_second_security_staff_member_opens_it_at_once_org_told_then_reviewed(pages, live, smtp_inbox,
                                                                                           record):
    asker, second, admin, record_path = pages["security"], pages["security2"], pages["admin"], record[0]
    request_id = _ask(asker, "INC-4242", minutes=30, reason="incident", break_glass=True)
    assert not _mails(smtp_inbox, ADMIN, request_id)  # told when it opens, not before
    assert asker.goto(record_path).status == 404
    # acme's admins see it waiting, with no approval of theirs to give (a second staff member's it is).
    admin.goto("/o/acme/security/access/")
    waiting = admin.locator(f".access-request[data-request='{request_id}']")
    expect(waiting).to_contain_text("break-glass")
    expect(waiting.locator("form[action$='/approve/']")).to_have_count(0)
    admin.goto(f"/o/acme/security/access/{request_id}/")
    expect(admin.locator("form[action$='/approve/']")).to_have_count(0)

    # Not the asker: their console offers no approval, and a hand-made one is refused.
    asker.goto("/staff/")
    expect(asker.locator("form.break-glass")).to_have_count(0)
    refused = _post_as(asker, f"/staff/access-requests/{request_id}/break-glass/")
    assert refused.url.endswith("/staff/") and "Nobody approves their own request." in refused.text()
    assert asker.goto(record_path).status == 404
    # Not support staff either.
    pages["support"].goto("/staff/")
    assert _post_as(pages["support"], f"/staff/access-requests/{request_id}/break-glass/").status == 404

    # The second security staff member approves: open at once, acme's admins told at once.
    second.goto("/staff/")
    expect(second.locator("form.break-glass")).to_contain_text(f"{SECURITY} → acme: INC-4242")
    _click(second, f"form.break-glass[action*='{request_id}'] button", "Break-glass access opened")
    assert asker.goto(record_path).status == 200
    [told] = _mails(smtp_inbox, ADMIN, f"Grant: {request_id}")
    assert "Break-glass access" in body(told) and "INC-4242" in body(told) and "marked for your review" in body(told)
    assert _mails(smtp_inbox, OWNER, f"Grant: {request_id}")
    assert not _mails(smtp_inbox, "globex", request_id)
    assert asker.goto("/o/globex/").status == 404
    admin.goto("/o/acme/security/access/")
    expect(admin.locator(f".access-grant[data-request='{request_id}']")).to_contain_text("break-glass")

    # It ends on the clock, then waits for review on both sides: acme's admin and a security colleague.
    _move_clock(live, 31)
    assert asker.goto(record_path).status == 404
    run_python(live, STAFF_ACCESS_JOB)
    admin.goto("/o/acme/security/access/")
    unreviewed = admin.locator(f".access-unreviewed[data-request='{request_id}']")
    expect(unreviewed).to_contain_text("break-glass")
    _click(admin, f".access-unreviewed[data-request='{request_id}'] button", "Marked reviewed.")
    asker.goto("/staff/")
    expect(asker.locator(f"form[action*='{request_id}/review/']")).to_have_count(0)  # not one's own grant
    second.goto("/staff/")
    _click(second, f"form[action*='{request_id}/review/'] button", "Marked reviewed.")
    admin.goto("/o/acme/security/access/")
    expect(admin.locator(f".access-unreviewed[data-request='{request_id}']")).to_have_count(0)
    _no_violations(pages)
