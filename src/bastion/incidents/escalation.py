"""Timers that pass their target are escalated once each: an email to ``BASTION_ALERT_EMAILS`` and a
POST to ``BASTION_ALERT_WEBHOOK`` (the channels of every platform alarm), an audit event, and the
gauge ``bastion_incident_timers_overdue`` for Prometheus. Run each minute by the job worker."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from prometheus_client import Gauge

from bastion.audit import alerts
from bastion.audit import chain as audit
from bastion.incidents import response, working_days
from bastion.incidents.audit_actions import INCIDENT_TIMER_ESCALATED
from bastion.incidents.models import CLOSED, RESOLUTION, RESPONSE, Escalation, Incident

OVERDUE = Gauge("bastion_incident_timers_overdue", "Open incidents whose timer has passed its target",
                ["timer"], multiprocess_mode="mostrecent")


@dataclass
class EscalationRun:
    overdue: dict[str, int] = field(default_factory=lambda: {RESPONSE: 0, RESOLUTION: 0})
    escalated: list[tuple[str, str]] = field(default_factory=list)  # (incident reference, timer)


def escalate_overdue(*, clock: Callable[[], datetime.datetime] = timezone.now) -> EscalationRun:
    now = clock()
    calendar = working_days.from_settings()
    run = EscalationRun()
    for incident in Incident.objects.exclude(phase=CLOSED).select_related("commander"):
        for timer in response.timers(incident, calendar):
            if not (timer.running() and timer.late(now)):
                continue
            run.overdue[timer.name] += 1
            if _escalate(incident, timer, now):
                run.escalated.append((incident.reference, timer.name))
    for name, count in run.overdue.items():
        OVERDUE.labels(timer=name).set(count)
    return run


def _escalate(incident: Incident, timer: response.Timer, now: datetime.datetime) -> bool:
    try:
        with transaction.atomic():
            Escalation.objects.create(incident=incident, timer=timer.name, due_at=timer.due, escalated_at=now)
            audit.record(INCIDENT_TIMER_ESCALATED, organisation_id=None, resource_type="incident_response",
                         resource_id=incident.id, changes={"reference": incident.reference, "timer": timer.name,
                                                           "due": timer.due, "exercise": incident.exercise})
    except IntegrityError:
        return False  # escalated already (by another worker at the same moment)
    marker = "[EXERCISE] " if incident.exercise else ""
    alerts.notify(
        f"[Bastion] {marker}{incident.reference} ({incident.severity}): {timer.name} target passed",
        f"{incident.title}\n\nThe {timer.name} target ({timer.target}) was due {timer.due:%Y-%m-%d %H:%M %Z}.\n"
        f"Commander: {incident.commander.get_username() if incident.commander else 'nobody yet'}. "
        f"Phase: {incident.get_phase_display()}.",
        {"event": INCIDENT_TIMER_ESCALATED, "incident": incident.reference, "severity": incident.severity,
         "timer": timer.name, "due": timer.due.isoformat(), "exercise": incident.exercise})
    return True
