"""Incident response: declared by hand, from a security alert or a failing component; a commander;
phases in order; timers per severity (hours, or business days across weekends and holidays) that
escalate once when they pass; a timeline that gathers alerts, audit events and component changes;
a linked public status-page incident; a review with follow-ups; exercises that never go public."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction

from bastion.audit import chain as audit
from bastion.audit.models import AuditEvent
from bastion.db import rls
from bastion.identity.audit_actions import AUTH_LOGIN_FAILED
from bastion.incidents import escalation, exercises, response, targets, timeline
from bastion.incidents.models import (
    CONTAINMENT,
    ERADICATION,
    IDENTIFICATION,
    LESSONS_LEARNED,
    RECOVERY,
    RESOLUTION,
    RESPONSE,
    Escalation,
)
from bastion.operations.models import ComponentInterval, SecurityAlert
from bastion.operations.models import Incident as StatusIncident
from bastion.tenancy import context

LONDON = ZoneInfo("Europe/London")
FRIDAY_NOON = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=LONDON)


def at(moment):
    return lambda: moment


@pytest.fixture
def staff(django_user_model, db):
    return django_user_model.objects.create_user(email="responder@bastion.example", password="x" * 16)


@pytest.fixture
def alerting(settings):
    settings.BASTION_ALERT_EMAILS = ["oncall@bastion.example"]
    settings.BASTION_ALERT_WEBHOOK = ""
    settings.BASTION_BUSINESS_TIME_ZONE = "Europe/London"
    settings.BASTION_HOLIDAYS = [datetime.date(2026, 12, 7)]  # the Monday after
    mail.outbox.clear()


def test_a_critical_incident_escalates_its_response_timer_once(staff, alerting):
    incident = response.declare(title="Database unreachable", severity="critical", by=staff, clock=at(FRIDAY_NOON))
    response_timer, resolution_timer = response.timers(incident)
    assert (response_timer.name, response_timer.due) == (RESPONSE, FRIDAY_NOON + datetime.timedelta(hours=1))
    assert resolution_timer.due == FRIDAY_NOON + datetime.timedelta(hours=24)

    assert escalation.escalate_overdue(clock=at(FRIDAY_NOON + datetime.timedelta(minutes=59))).escalated == []
    run = escalation.escalate_overdue(clock=at(FRIDAY_NOON + datetime.timedelta(minutes=61)))
    assert run.escalated == [(incident.reference, RESPONSE)] and run.overdue == {RESPONSE: 1, RESOLUTION: 0}
    assert escalation.OVERDUE.labels(timer=RESPONSE)._value.get() == 1
    assert [m.to for m in mail.outbox] == [["oncall@bastion.example"]]
    assert incident.reference in mail.outbox[0].subject and "response target passed" in mail.outbox[0].subject
    again = escalation.escalate_overdue(clock=at(FRIDAY_NOON + datetime.timedelta(minutes=90)))
    assert again.escalated == [] and len(mail.outbox) == 1  # once per timer
    with rls.setting("bastion.scope", "platform"):
        assert AuditEvent.objects.filter(action="incident.timer.escalated", resource_id=str(incident.id)).count() == 1

    response.take_command(incident, commander=staff, by=staff, clock=at(FRIDAY_NOON + datetime.timedelta(hours=2)))
    run = escalation.escalate_overdue(clock=at(FRIDAY_NOON + datetime.timedelta(hours=3)))
    assert run.overdue == {RESPONSE: 0, RESOLUTION: 0}  # answered (late), no longer running


def test_high_resolution_counts_business_days_across_a_weekend_and_a_holiday(staff, alerting):
    incident = response.declare(title="Suspicious admin sign-ins", severity="high", by=staff, clock=at(FRIDAY_NOON))
    _, resolution_timer = response.timers(incident)
    # Monday is a holiday: Tuesday, Wednesday, Thursday.
    assert resolution_timer.due == datetime.datetime(2026, 12, 10, 23, 59, 59, 999999, tzinfo=LONDON)
    assert not resolution_timer.late(datetime.datetime(2026, 12, 10, 23, 0, tzinfo=LONDON))
    assert resolution_timer.late(datetime.datetime(2026, 12, 11, 0, 0, tzinfo=LONDON))


def test_phases_go_forward_one_at_a_time_and_close_after_a_review(staff, alerting):
    incident = response.declare(title="Leaked API key", severity="high", by=staff, clock=at(FRIDAY_NOON))
    with pytest.raises(response.NotAllowed):
        response.advance(incident, ERADICATION, by=staff)  # containment first
    for phase in (CONTAINMENT, ERADICATION, RECOVERY):
        incident = response.advance(incident, phase, by=staff, clock=at(FRIDAY_NOON))
    with pytest.raises(response.NotAllowed):
        response.record_review(incident, review="Too early", follow_ups=[], by=staff)
    incident = response.advance(incident, LESSONS_LEARNED, by=staff,
                                clock=at(FRIDAY_NOON + datetime.timedelta(hours=5)))
    assert incident.resolved_at == FRIDAY_NOON + datetime.timedelta(hours=5)
    with pytest.raises(response.NotAllowed):
        response.advance(incident, "closed", by=staff)  # not reviewed yet
    incident = response.record_review(incident, review="Key committed to a public repo.\nRotate on push.",
                                      follow_ups=[response.FollowUp("Secret scanning on push", owner="platform")], by=staff)
    incident = response.advance(incident, "closed", by=staff)
    assert incident.closed_at and incident.follow_ups.count() == 1
    with pytest.raises(response.NotAllowed):
        response.add_note(incident, "after the end", by=staff)
    with pytest.raises(ValidationError):
        response.declare(title="", severity="urgent", by=staff)


def test_the_status_page_incident_is_written_from_the_response(staff, alerting):
    incident = response.declare(title="Sign-in errors", severity="critical", by=staff, components=["sign_in"])
    incident = response.update_status_page(incident, status="investigating", body="Some sign-ins fail.", by=staff)
    public = StatusIncident.objects.get(id=incident.status_incident_id)
    assert (public.title, public.components) == ("Sign-in errors", ["sign_in"])
    response.update_status_page(incident, status="resolved", body="Fixed.", by=staff)
    public.refresh_from_db()
    assert public.status == "resolved" and public.updates.count() == 2
    kinds = [entry.kind for entry in timeline.timeline(incident)]
    assert kinds.count("status_page") == 2 and kinds[0] == "declared"


def test_an_alert_becomes_an_incident_with_its_events_on_the_timeline(world, staff, alerting):
    acme = world.acme.organisation
    with context.tenant_context(acme.id):
        with transaction.atomic():
            event = audit.record(AUTH_LOGIN_FAILED, organisation_id=acme.id, resource_type="user", resource_id="x")
        alert = SecurityAlert.objects.create(
            organisation=acme, rule="brute_force", severity="high", subject="owner@acme.example",
            summary="12 failed sign-ins in 15 minutes", dedup_key="brute_force:owner", events=[[str(event.chain_id),
                                                                                                 event.seq]],
            event_count=1, first_event_at=event.occurred_at, last_event_at=event.occurred_at)
    incident = response.declare_from_alert(alert, by=staff)
    assert (incident.source, incident.source_ref, incident.severity) == ("security_alert", str(alert.id), "high")
    entries = timeline.timeline(incident)
    assert any(e.kind == "alert" and e.ref == str(alert.id) and "declared from this alert" in e.text for e in entries)
    assert [e.ref for e in entries if e.kind == "audit_event"] == [f"{event.chain_id}:{event.seq}"]


def test_a_failing_component_becomes_an_incident_with_its_changes_on_the_timeline(staff, alerting):
    with pytest.raises(ValidationError):
        response.declare_from_component("teleporter", by=staff)
    incident = response.declare_from_component("database", by=staff)
    assert incident.severity == "critical" and incident.components == ["database"]
    ComponentInterval.objects.create(component="database", state="down", started_at=incident.declared_at,
                                     checked_at=incident.declared_at, detail="connection refused")
    ComponentInterval.objects.create(component="email", state="down", started_at=incident.declared_at,
                                     checked_at=incident.declared_at)
    changes = [e.text for e in timeline.timeline(incident) if e.kind == "component"]
    assert changes == ["database became down: connection refused"]


def test_exercises_are_marked_never_public_and_remind_when_overdue(staff, alerting, settings):
    now = datetime.datetime(2026, 11, 30, 9, tzinfo=datetime.UTC)
    assert exercises.overdue(clock=at(now)) and exercises.remind_if_overdue(clock=at(now))
    assert "no incident-response exercise" in mail.outbox[-1].subject
    drill = response.declare(title="Tabletop: stolen laptop", severity="critical", exercise=True, by=staff,
                             clock=at(now - datetime.timedelta(days=10)))
    with pytest.raises(response.NotAllowed):
        response.update_status_page(drill, status="investigating", body="x", by=staff)
    run = escalation.escalate_overdue(clock=at(now))
    assert (drill.reference, RESPONSE) in run.escalated
    assert any(m.subject.startswith(f"[Bastion] [EXERCISE] {drill.reference}") for m in mail.outbox)
    mail.outbox.clear()
    assert not exercises.overdue(clock=at(now)) and not exercises.remind_if_overdue(clock=at(now))
    assert mail.outbox == []
    older = response.declare(title="Tabletop: ransomware", severity="high", exercise=True, by=staff,
                             clock=at(now - datetime.timedelta(days=100)))
    response.declare(title="Real one", severity="low", by=staff, clock=at(now))
    assert [(o.reference, o.reviewed) for o in exercises.recent()] == [(drill.reference, False),
                                                                       (older.reference, False)]
    assert Escalation.objects.filter(incident=drill).count() == 2  # response and resolution both passed


def test_targets_are_parsed_strictly():
    parsed = targets.parse(targets.DEFAULT)
    assert str(parsed["critical"].response) == "1 hour(s)" and str(parsed["high"].resolution) == "3 business day(s)"
    for bad in ("critical=1h/24h", "critical=1h/24x,high=4h/3bd,medium=1bd/10bd,low=2bd/20bd",
                "urgent=1h/2h,critical=1h/24h,high=4h/3bd,medium=1bd/10bd,low=2bd/20bd",
                "critical=0h/24h,high=4h/3bd,medium=1bd/10bd,low=2bd/20bd"):
        with pytest.raises(ValueError):
            targets.parse(bad)


def test_the_starting_phase_is_identification(staff):
    assert response.declare(title="x", severity="low", by=staff).phase == IDENTIFICATION
