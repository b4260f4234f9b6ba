"""Coordinated disclosure: the public policy and form, the reporter's private link, staff steps on
business-day timers, CVSS 4.0 scoring, credit on the acknowledgments page — and nothing a reporter
wrote, nor who they are, in the database in clear or in the audit log."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client

from bastion.audit.models import AuditEvent
from bastion.db import rls
from bastion.incidents import disclosure, working_days
from bastion.incidents.models import ACKNOWLEDGED, DISCLOSED, FIXING, RESOLVED, STAFF, TRIAGED, VulnerabilityReport

SECRET_DETAIL = "IDOR in /api/v1/orgs/x/records lets tenant A read tenant B-7f3c9"
REPORTER_EMAIL = "ada@research.example"
CRITICAL = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
LONDON = ZoneInfo("Europe/London")


def file_report(client=None, **overrides):
    form = {"title": "Cross-tenant read", "description": SECRET_DETAIL, "affected": "https://bastion.example/api/v1/",
            "reporter_name": "Ada L.", "reporter_email": REPORTER_EMAIL, "wants_credit": "on", "credit_name": "Ada L."}
    form.update(overrides)
    return (client or Client()).post("/security", form, secure=True)


def token_from(response) -> str:
    return response["Location"].rsplit("/", 1)[1]


@pytest.fixture
def commits(django_capture_on_commit_callbacks):
    """Emails leave once the transaction commits: inside a test's transaction, run those callbacks."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def filed(db, commits):
    with commits():
        response = file_report()
    assert response.status_code == 302
    token = token_from(response)
    return disclosure.by_follow_token(token), token


def test_the_policy_page_states_scope_safe_harbour_and_timers(db):
    page = Client().get("/security", secure=True).content.decode()
    for promise in ("within 2 business days", "within 5 business days", "90 days", "Safe harbour",
                    "Denial of service", "Social engineering", "Physical attacks", "third-party services",
                    'name="description"', "acknowledgments"):
        assert promise in page


def test_a_report_gets_a_reference_and_a_private_link_by_email(filed):
    report, token = filed
    assert re.fullmatch(r"BSR-\d{4}-[2-9A-HJKMNP-TV-Z]{6}", report.reference)
    assert [m.to for m in mail.outbox] == [[REPORTER_EMAIL]]
    assert report.reference in mail.outbox[0].subject and f"/security/reports/{token}" in mail.outbox[0].body
    page = Client().get(f"/security/reports/{token}", secure=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert report.reference in text and SECRET_DETAIL in text and "Received" in text
    assert report.disclosure_due == (report.received_at + datetime.timedelta(days=90)).date()


def test_what_the_reporter_wrote_is_sealed_and_the_audit_log_names_no_one(filed):
    report, token = filed
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM incidents_vulnerabilityreport")
        stored = repr(cursor.fetchall())
    assert SECRET_DETAIL not in stored and REPORTER_EMAIL not in stored and token not in stored
    with rls.setting("bastion.scope", "platform"):
        events = list(AuditEvent.objects.filter(resource_id=str(report.id)).values_list("action", "changes", "ip"))
    assert [action for action, _, _ in events] == ["security.report.received"]
    assert SECRET_DETAIL not in repr(events) and REPORTER_EMAIL not in repr(events)


def test_a_wrong_link_finds_nothing(filed, world, client_for):
    _, token = filed
    assert Client().get(f"/security/reports/{token[:-1]}x", secure=True).status_code == 404
    # Signing in as an organisation's admin gives no way to another's report.
    assert client_for(world.globex.users["admin"]).get("/security/reports/nothing", secure=True).status_code == 404


def test_the_reporter_and_staff_write_to_each_other(filed, commits):
    report, token = filed
    mail.outbox.clear()
    client = Client()
    with commits():
        reply = client.post(f"/security/reports/{token}", {"body": "Also affects exports."}, secure=True)
    assert reply.status_code == 302
    assert mail.outbox == []  # the reporter is not emailed their own message
    with commits():
        disclosure.add_message(report, author=STAFF, body="Thanks, reproducing now.")
    assert [m.to for m in mail.outbox] == [[REPORTER_EMAIL]] and "Thanks" not in mail.outbox[0].body
    assert [(m.author, m.body) for m in disclosure.messages(report)] == [
        ("reporter", "Also affects exports."), ("staff", "Thanks, reproducing now.")]
    assert client.post(f"/security/reports/{token}", {"body": " "}, secure=True).status_code == 400


def test_bad_input_is_refused_field_by_field(db, settings):
    settings.BASTION_SECURITY_REPORT_MAX_CHARS = 1000
    response = Client().post("/security", {"title": "", "description": "x" * 1001, "reporter_email": "nope",
                                           "wants_credit": "on"}, secure=True, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"title", "description", "reporter_email", "credit_name"}
    assert VulnerabilityReport.objects.count() == 0
    html = file_report(title="")
    assert html.status_code == 400 and "The report is incomplete" in html.content.decode()
    assert SECRET_DETAIL in html.content.decode()  # what was typed is kept, not lost


def test_the_form_answers_json_to_machines(db):
    response = file_report(Client(HTTP_ACCEPT="application/json"))
    assert response.status_code == 201
    body = response.json()
    assert body["reference"].startswith("BSR-") and "/security/reports/" in body["follow_url"]


def test_the_form_is_rate_limited(db, settings):
    settings.BASTION_RATE_LIMITS = {"SECURITY_REPORT_IP": "3/h"}
    client = Client()
    assert [file_report(client).status_code for _ in range(4)] == [302, 302, 302, 429]
    assert VulnerabilityReport.objects.count() == 3


def test_staff_steps_follow_the_lifecycle_and_email_the_reporter(filed, commits):
    report, _ = filed
    mail.outbox.clear()
    with pytest.raises(disclosure.NotAllowed):
        disclosure.move(report, RESOLVED)
    with commits():
        report = disclosure.move(report, ACKNOWLEDGED, note="We are on it.")
    assert report.acknowledged_at is not None and len(mail.outbox) == 2  # the note, then the step
    with pytest.raises(ValidationError):
        disclosure.triage(report, cvss_vector="CVSS:4.0/AV:X")
    report = disclosure.triage(report, cvss_vector=CRITICAL)
    assert (report.status, str(report.cvss_score), report.severity) == (TRIAGED, "9.3", "Critical")
    report = disclosure.move(report, FIXING)
    report = disclosure.move(report, RESOLVED)
    report = disclosure.move(report, DISCLOSED)
    assert report.disclosed_at is not None
    with rls.setting("bastion.scope", "platform"):
        moves = list(AuditEvent.objects.filter(resource_id=str(report.id), action="security.report.status_changed")
                     .order_by("seq").values_list("changes", flat=True))
    assert [changes["to"] for changes in moves] == [ACKNOWLEDGED, FIXING, RESOLVED, DISCLOSED]


def test_timers_count_business_days_on_the_configured_calendar(filed, settings):
    report, _ = filed
    settings.BASTION_BUSINESS_TIME_ZONE = "Europe/London"
    settings.BASTION_HOLIDAYS = []
    report.received_at = datetime.datetime(2026, 12, 4, 19, 30, tzinfo=LONDON)  # Friday evening
    timers = disclosure.timers(report, working_days.from_settings())
    tuesday_end = datetime.datetime(2026, 12, 8, 23, 59, 59, 999999, tzinfo=LONDON)
    assert timers.acknowledge.due == tuesday_end
    assert not timers.acknowledge.late(tuesday_end)
    assert timers.acknowledge.late(tuesday_end + datetime.timedelta(microseconds=1))
    assert timers.triage.due.date() == datetime.date(2026, 12, 11)
    report.acknowledged_at = datetime.datetime(2026, 12, 8, 23, 0, tzinfo=LONDON)
    assert not disclosure.timers(report).acknowledge.late(datetime.datetime(2026, 12, 20, tzinfo=LONDON))
    settings.BASTION_HOLIDAYS = [datetime.date(2026, 12, 7)]
    assert disclosure.timers(report).acknowledge.due.date() == datetime.date(2026, 12, 9)


def test_credit_appears_only_once_resolved_and_only_when_agreed(filed):
    report, _ = filed
    anonymous = disclosure.by_follow_token(token_from(file_report(wants_credit="", credit_name="", title="Other")))
    page = lambda: Client().get("/security/acknowledgments", secure=True).content.decode()  # noqa: E731
    assert "Ada L." not in page()
    for r in (report, anonymous):
        r = disclosure.move(r, ACKNOWLEDGED)
        r = disclosure.triage(r, cvss_vector=CRITICAL)
        disclosure.move(r, RESOLVED)
    text = page()
    assert "Ada L." in text and "critical severity" in text
    assert "Cross-tenant read" not in text  # the title waits for disclosure
    assert "Other" not in text
