"""Incidents, their updates and scheduled maintenance, written by platform staff. Each change is
one function, in one transaction with its audit event (platform chain); subscribers are emailed
once the transaction commits."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.operations import probes, summary
from bastion.operations.audit_actions import (
    INCIDENT_CREATED,
    INCIDENT_UPDATED,
    MAINTENANCE_SCHEDULED,
    MAINTENANCE_UPDATED,
)
from bastion.operations.models import IMPACTS, INCIDENT_STATUSES, Incident, IncidentUpdate, Maintenance

Clock = Callable[[], datetime.datetime]
Notify = Callable[[str, str], None]  # (incident id, update id): emails the subscribers


def _check(**fields) -> None:
    errors = {}
    keys = {c.key for c in probes.components()}
    for name, (value, valid, message) in fields.items():
        if not valid(value):
            errors[name] = ValidationError(message, code="invalid")
    if "components" in fields and not set(fields["components"][0]) <= keys:
        errors["components"] = ValidationError(f"unknown component (known: {', '.join(sorted(keys))})", code="invalid")
    if errors:
        raise ValidationError(errors)


def _text(limit: int):
    return lambda value: isinstance(value, str) and 0 < len(value.strip()) <= limit


def _one_of(choices):
    return lambda value: value in {key for key, _ in choices}


def open_incident(*, title: str, impact: str, status: str, body: str, components: list[str],
                  notify: Notify | None = None, clock: Clock = timezone.now) -> Incident:
    _check(title=(title, _text(200), "Give the incident a title (200 characters at most)."),
           impact=(impact, _one_of(IMPACTS), "Impact is none, minor, major or critical."),
           status=(status, _one_of(INCIDENT_STATUSES[:-1]), "A new incident is investigating, identified or monitoring."),
           body=(body, _text(5000), "Say what is happening (5000 characters at most)."),
           components=(components, lambda v: isinstance(v, list), "Choose the affected components."))
    now = clock()
    with transaction.atomic():
        incident = Incident.objects.create(title=title.strip(), impact=impact, status=status, components=components,
                                           created_at=now, updated_at=now)
        update = IncidentUpdate.objects.create(incident=incident, status=status, body=body.strip(), created_at=now)
        audit.record(INCIDENT_CREATED, organisation_id=None, resource_type="incident", resource_id=incident.id,
                     changes={"title": incident.title, "impact": impact, "status": status, "components": components})
        _after_commit(incident, update, notify)
    return incident


def post_update(incident: Incident, *, status: str, body: str, notify: Notify | None = None,
                clock: Clock = timezone.now) -> IncidentUpdate:
    _check(status=(status, _one_of(INCIDENT_STATUSES), "Status is investigating, identified, monitoring or resolved."),
           body=(body, _text(5000), "Say what changed (5000 characters at most)."))
    now = clock()
    with transaction.atomic():
        incident = Incident.objects.select_for_update().get(id=incident.id)
        previous = incident.status
        incident.status, incident.updated_at = status, now
        incident.resolved_at = now if status == "resolved" else None
        incident.save(update_fields=["status", "updated_at", "resolved_at"])
        update = IncidentUpdate.objects.create(incident=incident, status=status, body=body.strip(), created_at=now)
        audit.record(INCIDENT_UPDATED, organisation_id=None, resource_type="incident", resource_id=incident.id,
                     changes={"status": [previous, status], "update": str(update.id)})
        _after_commit(incident, update, notify)
    return update


def _after_commit(incident: Incident, update: IncidentUpdate, notify: Notify | None) -> None:
    transaction.on_commit(summary.forget)
    if notify is not None:
        transaction.on_commit(lambda: notify(str(incident.id), str(update.id)))


def schedule_maintenance(*, title: str, body: str, components: list[str], starts_at: datetime.datetime,
                         ends_at: datetime.datetime, clock: Clock = timezone.now) -> Maintenance:
    _check(title=(title, _text(200), "Give the maintenance a title (200 characters at most)."),
           components=(components, lambda v: isinstance(v, list) and v, "Choose the components it affects."))
    if not (isinstance(starts_at, datetime.datetime) and isinstance(ends_at, datetime.datetime)
            and starts_at < ends_at):
        raise ValidationError({"ends_at": ValidationError("The maintenance must end after it starts.", code="invalid")})
    now = clock()
    with transaction.atomic():
        maintenance = Maintenance.objects.create(title=title.strip(), body=(body or "").strip()[:5000],
                                                 components=components, starts_at=starts_at, ends_at=ends_at,
                                                 created_at=now, updated_at=now)
        audit.record(MAINTENANCE_SCHEDULED, organisation_id=None, resource_type="maintenance",
                     resource_id=maintenance.id,
                     changes={"title": maintenance.title, "components": components, "starts_at": starts_at,
                              "ends_at": ends_at})
        transaction.on_commit(summary.forget)
    return maintenance


def cancel_maintenance(maintenance: Maintenance, *, clock: Clock = timezone.now) -> Maintenance:
    with transaction.atomic():
        maintenance = Maintenance.objects.select_for_update().get(id=maintenance.id)
        maintenance.cancelled, maintenance.updated_at = True, clock()
        maintenance.save(update_fields=["cancelled", "updated_at"])
        audit.record(MAINTENANCE_UPDATED, organisation_id=None, resource_type="maintenance",
                     resource_id=maintenance.id, changes={"cancelled": True})
        transaction.on_commit(summary.forget)
    return maintenance
