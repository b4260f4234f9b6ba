"""The staff console for incidents and vulnerability reports: security staff only (support staff,
organisation admins and the outsider are told it does not exist); every step through its form;
refusals answer 409 and bad input 400 with the page, never a traceback."""

import datetime
import re

import pytest
from django.core import mail
from django.test import Client

from bastion.incidents import disclosure
from bastion.incidents.models import BreachNotice, Incident, VulnerabilityReport
from bastion.operations.models import SecurityAlert
from bastion.tenancy.context import tenant_context


@pytest.fixture
def security(world, client_for, django_user_model):
    user = django_user_model.objects.create_user(email="sec@staff.example", staff_role="security",
                                                 email_verified=True)
    return client_for(user)


@pytest.fixture
def support(world, client_for, django_user_model):
    user = django_user_model.objects.create_user(email="helpdesk@staff.example", staff_role="support",
                                                 email_verified=True)
    return client_for(user)


def test_only_security_staff_reach_the_incident_and_report_pages(world, security, support, client_for):
    for path in ("/staff/incidents/", "/staff/reports/"):
        assert security.get(path).status_code == 200
        assert support.get(path).status_code == 404
        assert client_for(world.acme.users["owner"]).get(path).status_code == 404
        assert client_for(world.globex.users["admin"]).get(path).status_code == 404
        assert Client().get(path).status_code in (302, 401)


def test_an_incident_is_run_from_the_console(world, security, settings, django_capture_on_commit_callbacks):
    settings.BASTION_SECURITY_CONTACTS = ["mailto:security@bastion.example"]
    assert security.post("/staff/incidents/", {"title": "", "severity": "urgent"}).status_code == 400
    declared = security.post("/staff/incidents/", {"title": "Leaked CI key", "severity": "critical",
                                                   "summary": "Published in a build log."})
    assert declared.status_code == 302
    incident = Incident.objects.get(title="Leaked CI key")
    page = f"/staff/incidents/{incident.id}/"
    assert incident.reference in security.get("/staff/incidents/").content.decode()

    def act(**form):
        return security.post(page, form)

    assert act(action="take_command").status_code == 302
    assert act(action="advance", phase="eradication").status_code == 409  # containment comes first
    assert act(action="advance", phase="containment", note="Key revoked").status_code == 302
    assert act(action="explode").status_code == 400
    # The attacker's use of the key: an evidence download from one address.
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=2)
    key = Client(HTTP_AUTHORIZATION=f"Bearer {world.acme.api_token}", REMOTE_ADDR="198.51.100.7")
    base = f"/api/v1/orgs/acme/projects/{world.acme.project.id}"
    assert key.get(f"{base}/evidence/{world.acme.evidence.id}/download").status_code == 200
    end = datetime.datetime.now(datetime.UTC)
    assert act(action="scope", kind="api_key", subject=world.acme.api_key.public_id, start="x",
               end="y").status_code == 400
    future = (end + datetime.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S")
    assert act(action="scope", kind="api_key", subject=world.acme.api_key.public_id,
               start=start.strftime("%Y-%m-%d %H:%M:%S"), end=future).status_code == 400  # still open
    scoped = act(action="scope", kind="api_key", subject=world.acme.api_key.public_id,
                 start=start.strftime("%Y-%m-%d %H:%M:%S.%f"), end=end.strftime("%Y-%m-%d %H:%M:%S.%f"))
    assert scoped.status_code == 302
    text = security.get(page).content.decode()
    assert "acme: read 1" in text and "globex" not in text
    scoping_id = re.search(r'name="scoping" value="([0-9a-f-]+)"', text)
    assert scoping_id is None  # no drafting before the breach is confirmed
    assert act(action="confirm_breach").status_code == 302
    assert act(action="confirm_breach").status_code == 409
    scoping_id = re.search(r'name="scoping" value="([0-9a-f-]+)"', security.get(page).content.decode()).group(1)
    assert act(action="draft_notices", scoping="nonsense").status_code == 400
    assert act(action="draft_notices", scoping=scoping_id).status_code == 302
    with tenant_context(world.acme.organisation.id):
        notice = BreachNotice.objects.get(incident=incident)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = act(action="send_notice", notice=str(notice.id), organisation=str(notice.organisation_id))
    assert sent.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@acme.example", "owner@acme.example"]
    assert act(action="send_notice", notice=str(notice.id),
               organisation=str(notice.organisation_id)).status_code == 409
    for phase in ("eradication", "recovery", "lessons_learned"):
        assert act(action="advance", phase=phase).status_code == 302
    assert act(action="advance", phase="closed").status_code == 409  # the review first
    assert act(action="review", review="A key in a log.", follow_ups="Mask secrets in CI logs\n").status_code == 302
    assert act(action="advance", phase="closed").status_code == 302
    incident.refresh_from_db()
    assert incident.closed_at and incident.follow_ups.get().title == "Mask secrets in CI logs"
    assert act(action="note", body="after").status_code == 409


def test_a_report_is_worked_from_the_console(db, security, commits_mail):
    received = disclosure.receive(title="Stored XSS", description="<script>alert(1)</script> in a supplier name",
                                  reporter_email="eve@research.example", wants_credit=True, credit_name="Eve",
                                  base_url="https://bastion.example")
    report = received.report
    page = f"/staff/reports/{report.id}/"
    text = security.get(page).content.decode()
    assert "&lt;script&gt;" in text and "<script>alert(1)" not in text  # what a reporter wrote is escaped
    assert report.reference in security.get("/staff/reports/").content.decode()
    assert security.post(page, {"action": "resolved"}).status_code == 409
    with commits_mail():
        assert security.post(page, {"action": "acknowledged", "note": "Thanks!"}).status_code == 302
    assert any(m.to == ["eve@research.example"] and "acknowledged" in m.subject for m in mail.outbox)
    assert security.post(page, {"action": "triage", "cvss_vector": "CVSS:4.0/nonsense"}).status_code == 400
    assert security.post(page, {"action": "triage", "cvss_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:L/VI:L/"
                                                                 "VA:N/SC:L/SI:L/SA:N",
                                "disclosure_due": "not a date"}).status_code == 400
    assert security.post(page, {"action": "triage", "cvss_vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:P/VC:L/VI:L/"
                                                                 "VA:N/SC:L/SI:L/SA:N"}).status_code == 302
    report.refresh_from_db()
    assert report.severity in ("Low", "Medium") and report.cvss_score is not None
    assert security.post(page, {"action": "message", "body": "Fix deploys Tuesday."}).status_code == 302
    assert security.post(page, {"action": "resolved"}).status_code == 302
    assert "Eve" in Client().get("/security/acknowledgments").content.decode()
    assert VulnerabilityReport.objects.get(id=report.id).status == "resolved"


def test_incidents_are_declared_from_an_alert_or_a_component_and_reports_linked(world, security):
    acme = world.acme.organisation
    with tenant_context(acme.id):
        now = datetime.datetime.now(datetime.UTC)
        alert = SecurityAlert.objects.create(organisation=acme, rule="export_burst", severity="high",
                                             subject="api key CI", summary="40 exports in 10 minutes",
                                             dedup_key="export_burst:ci", events=[], first_event_at=now,
                                             last_event_at=now)
    assert security.post("/staff/incidents/", {"alert": str(alert.id), "organisation": "globex"}).status_code == 404
    assert security.post("/staff/incidents/", {"alert": "nope"}).status_code == 400
    assert security.post("/staff/incidents/", {"alert": str(alert.id), "organisation": "acme"}).status_code == 302
    from_alert = Incident.objects.get(source="security_alert")
    assert from_alert.source_ref == str(alert.id) and from_alert.organisations == [str(acme.id)]
    assert "40 exports" in security.get(f"/staff/incidents/{from_alert.id}/").content.decode()
    assert security.post("/staff/incidents/", {"component": "teleporter", "severity": "high"}).status_code == 400
    assert security.post("/staff/incidents/", {"component": "database", "severity": "critical"}).status_code == 302
    assert Incident.objects.filter(source="status_component", source_ref="database").exists()

    report = disclosure.receive(title="x", description="y", reporter_email="r@research.example",
                                base_url="https://b.example").report
    page = f"/staff/reports/{report.id}/"
    assert security.post(page, {"action": "link_incident", "incident": "INC-NOPE"}).status_code == 400
    assert security.post(page, {"action": "link_incident", "incident": from_alert.reference}).status_code == 302
    assert VulnerabilityReport.objects.get(id=report.id).incident_id == from_alert.id
