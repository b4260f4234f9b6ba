"""Responding to an incident: declare it (by hand, from a security alert or from a failing
status-page component), take command, move it through the phases (identification → containment →
eradication → recovery → lessons learned → closed), write notes and public status updates, review
it with follow-up actions. Each step is one function that changes the incident, adds a line to
its timeline and appends its audit event (platform chain) in one transaction.

Timers: the response target runs from declaration until a commander takes the incident, the
resolution target until recovery is done (the incident enters lessons learned). Targets per
severity are ``BASTION_INCIDENT_TARGETS`` (hours, or business days on the working calendar).

An exercise (tabletop) runs the same flow on synthetic data; it is marked in every subject line
and page, and never reaches the public status page or a customer.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.identity.models import User
from bastion.incidents import working_days
from bastion.incidents.audit_actions import (
    INCIDENT_COMMANDER_ASSIGNED,
    INCIDENT_DECLARED,
    INCIDENT_NOTE_ADDED,
    INCIDENT_PHASE_CHANGED,
    INCIDENT_REVIEWED,
    INCIDENT_SEVERITY_CHANGED,
    INCIDENT_STATUS_PAGE_UPDATED,
)
from bastion.incidents.models import (
    CLOSED,
    LESSONS_LEARNED,
    MANUAL,
    PHASES,
    PLATFORM_SECURITY_ALERT,
    RESOLUTION,
    RESPONSE,
    SECURITY_ALERT,
    SEVERITIES,
    STATUS_COMPONENT,
    FollowUpAction,
    Incident,
    IncidentNote,
)
from bastion.incidents.refusals import NotAllowed
from bastion.incidents.targets import SeverityTargets
from bastion.operations import incidents as status_page
from bastion.operations.models import PlatformSecurityAlert, SecurityAlert

Clock = Callable[[], datetime.datetime]
PHASE_ORDER = [key for key, _ in PHASES]
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class Timer:
    name: str
    target: str  # "1 hour(s)", "3 business day(s)"
    due: datetime.datetime
    done_at: datetime.datetime | None

    def late(self, now: datetime.datetime) -> bool:
        return (self.done_at or now) > self.due

    def running(self) -> bool:
        return self.done_at is None


def _label(user: User | None) -> str:
    return user.get_username() if user is not None else "platform"


def _note(incident: Incident, kind: str, body: str, by: User | None, now: datetime.datetime) -> IncidentNote:
    return IncidentNote.objects.create(incident=incident, kind=kind, body=body[:5000], author_label=_label(by),
                                       created_at=now)


def _record(action: str, incident: Incident, changes: dict[str, object]) -> None:
    audit.record(action, organisation_id=None, resource_type="incident_response", resource_id=incident.id,
                 changes={"reference": incident.reference, "exercise": incident.exercise, **changes})


def _reference(now: datetime.datetime) -> str:
    while True:
        reference = f"INC-{now.year}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if not Incident.objects.filter(reference=reference).exists():
            return reference


def _locked(incident: Incident) -> Incident:
    locked = Incident.objects.select_for_update().get(id=incident.id)
    if locked.phase == CLOSED:
        raise NotAllowed(f"{locked.reference} is closed")
    return locked


def declare(*, title: str, severity: str, by: User | None, summary: str = "", exercise: bool = False,
            source: str = MANUAL, source_ref: str = "", components: list[str] | None = None,
            organisations: list[str] | None = None, clock: Clock = timezone.now) -> Incident:
    errors = {}
    if not title.strip() or len(title) > 200:
        errors["title"] = ValidationError("Give the incident a title (200 characters at most).", code="invalid")
    if severity not in dict(SEVERITIES):
        errors["severity"] = ValidationError("Severity is critical, high, medium or low.", code="invalid")
    if len(summary) > 5000:
        errors["summary"] = ValidationError("The summary is 5000 characters at most.", code="invalid")
    if errors:
        raise ValidationError(errors)
    now = clock()
    with transaction.atomic():
        incident = Incident.objects.create(
            reference=_reference(now), title=title.strip(), summary=summary.strip(), severity=severity,
            exercise=exercise, source=source, source_ref=source_ref, components=components or [],
            organisations=organisations or [], declared_by=by, declared_at=now)
        _note(incident, "declared", f"Declared {severity}{' (exercise)' if exercise else ''}: {incident.title}", by,
              now)
        _record(INCIDENT_DECLARED, incident, {"severity": severity, "source": source, "source_ref": source_ref})
    return incident


def declare_from_alert(alert: SecurityAlert | PlatformSecurityAlert, *, by: User | None, severity: str = "",
                       clock: Clock = timezone.now) -> Incident:
    """An alert's rule, subject and summary become the incident's; the alert stays linked."""
    platform = isinstance(alert, PlatformSecurityAlert)
    return declare(title=f"{alert.rule}: {alert.subject}"[:200], summary=alert.summary,
                   severity=severity or (alert.severity if alert.severity in dict(SEVERITIES) else "high"), by=by,
                   source=PLATFORM_SECURITY_ALERT if platform else SECURITY_ALERT, source_ref=str(alert.id),
                   organisations=[] if isinstance(alert, PlatformSecurityAlert) else [str(alert.organisation_id)],
                   clock=clock)


def declare_from_component(component: str, *, by: User | None, severity: str = "critical",
                           clock: Clock = timezone.now) -> Incident:
    from bastion.operations import probes

    known = {c.key: c for c in probes.components()}
    if component not in known:
        raise ValidationError({"component": ValidationError(f"unknown component (known: {', '.join(sorted(known))})",
                                                            code="invalid")})
    return declare(title=f"{known[component].name} is failing", severity=severity, by=by, source=STATUS_COMPONENT,
                   source_ref=component, components=[component], clock=clock)


def take_command(incident: Incident, *, commander: User, by: User | None, clock: Clock = timezone.now) -> Incident:
    now = clock()
    with transaction.atomic():
        incident = _locked(incident)
        incident.commander = commander
        incident.responded_at = incident.responded_at or now
        incident.save(update_fields=["commander", "responded_at"])
        _note(incident, "commander", f"{_label(commander)} is the incident commander", by, now)
        _record(INCIDENT_COMMANDER_ASSIGNED, incident, {"commander": _label(commander)})
    return incident


def advance(incident: Incident, phase: str, *, by: User | None, note: str = "", clock: Clock = timezone.now) -> Incident:
    """To the next phase only: the plan's steps are not skipped, nor walked back."""
    now = clock()
    with transaction.atomic():
        incident = _locked(incident)
        current = PHASE_ORDER.index(incident.phase)
        if phase not in PHASE_ORDER or PHASE_ORDER.index(phase) != current + 1:
            raise NotAllowed(f"{incident.reference} is in {incident.phase}: the next phase is {PHASE_ORDER[current + 1]}")
        if phase == CLOSED and not incident.reviewed_at:
            raise NotAllowed(f"{incident.reference} is closed only after its post-incident review")
        previous, incident.phase = incident.phase, phase
        if phase == LESSONS_LEARNED:
            incident.resolved_at = now
        if phase == CLOSED:
            incident.closed_at = now
        incident.save(update_fields=["phase", "resolved_at", "closed_at"])
        _note(incident, "phase", f"{previous} → {phase}" + (f": {note}" if note else ""), by, now)
        _record(INCIDENT_PHASE_CHANGED, incident, {"phase": [previous, phase]})
    return incident


def change_severity(incident: Incident, severity: str, *, by: User | None, reason: str,
                    clock: Clock = timezone.now) -> Incident:
    if severity not in dict(SEVERITIES) or not reason.strip():
        raise ValidationError({"severity": ValidationError("A severity (critical, high, medium, low) and a reason.",
                                                           code="invalid")})
    now = clock()
    with transaction.atomic():
        incident = _locked(incident)
        previous, incident.severity = incident.severity, severity
        incident.save(update_fields=["severity"])
        _note(incident, "severity", f"{previous} → {severity}: {reason.strip()}", by, now)
        _record(INCIDENT_SEVERITY_CHANGED, incident, {"severity": [previous, severity]})
    return incident


def add_note(incident: Incident, body: str, *, by: User | None, clock: Clock = timezone.now) -> IncidentNote:
    if not body.strip() or len(body) > 5000:
        raise ValidationError({"body": ValidationError("Write a note (5000 characters at most).", code="invalid")})
    now = clock()
    with transaction.atomic():
        incident = _locked(incident)
        note = _note(incident, "note", body.strip(), by, now)
        _record(INCIDENT_NOTE_ADDED, incident, {"note": str(note.id)})
    return note


def update_status_page(incident: Incident, *, status: str, body: str, impact: str = "major", by: User | None,
                       notify: status_page.Notify | None = None, clock: Clock = timezone.now) -> Incident:
    """Open the linked public status-page incident, or post an update to it. Exercises never do."""
    if incident.exercise:
        raise NotAllowed(f"{incident.reference} is an exercise: it never reaches the public status page")
    now = clock()
    with transaction.atomic():
        incident = _locked(incident)
        if incident.status_incident is None:
            incident.status_incident = status_page.open_incident(
                title=incident.title, impact=impact, status=status, body=body, components=incident.components,
                notify=notify, clock=clock)
            incident.save(update_fields=["status_incident"])
        else:
            status_page.post_update(incident.status_incident, status=status, body=body, notify=notify, clock=clock)
        _note(incident, "status_update", f"Status page ({status}): {body.strip()}", by, now)
        _record(INCIDENT_STATUS_PAGE_UPDATED, incident, {"status": status,
                                                        "status_incident": str(incident.status_incident.id)})
    return incident


@dataclass(frozen=True)
class FollowUp:
    title: str
    owner: str = ""
    due_on: datetime.date | None = None


def record_review(incident: Incident, *, review: str, follow_ups: list[FollowUp], by: User | None,
                  clock: Clock = timezone.now) -> Incident:
    """The post-incident review (in lessons learned): what happened, why, and follow-up actions."""
    if not review.strip() or len(review) > 20000:
        raise ValidationError({"review": ValidationError("Write the review (20000 characters at most).",
                                                         code="invalid")})
    now = clock()
    with transaction.atomic():
        incident = _locked(incident)
        if incident.phase != LESSONS_LEARNED:
            raise NotAllowed(f"{incident.reference} is reviewed in lessons learned, not in {incident.phase}")
        incident.review, incident.reviewed_at = review.strip(), now
        incident.save(update_fields=["review", "reviewed_at"])
        for item in follow_ups:
            FollowUpAction.objects.create(incident=incident, title=item.title[:300], owner=item.owner[:254],
                                          due_on=item.due_on)
        _note(incident, "review", f"Post-incident review recorded with {len(follow_ups)} follow-up action(s)", by, now)
        _record(INCIDENT_REVIEWED, incident, {"follow_ups": len(follow_ups)})
    return incident


def targets_for(incident: Incident) -> SeverityTargets:
    targets: dict[str, SeverityTargets] = settings.BASTION_INCIDENT_TARGETS
    return targets[incident.severity]


def timers(incident: Incident, calendar: working_days.WorkingCalendar | None = None) -> list[Timer]:
    calendar = calendar or working_days.from_settings()
    targets = targets_for(incident)
    return [
        Timer(RESPONSE, str(targets.response), targets.response.due(incident.declared_at, calendar),
              incident.responded_at),
        Timer(RESOLUTION, str(targets.resolution), targets.resolution.due(incident.declared_at, calendar),
              incident.resolved_at),
    ]
