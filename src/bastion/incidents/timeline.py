"""An incident's timeline: its own lines (notes and every change staff made) beside what Bastion
collects by itself — the security alert it was declared from with the audit events that alert
links, other security alerts raised while it was open, the state changes of the status-page
components it concerns, and the updates of its public status-page incident. Computed on each
read from the records themselves, so it cannot drift from them."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from bastion.audit.models import AuditEvent
from bastion.incidents.models import PLATFORM_SECURITY_ALERT, SECURITY_ALERT, Incident
from bastion.operations.models import ComponentInterval, IncidentUpdate, PlatformSecurityAlert, SecurityAlert
from bastion.tenancy.context import platform_scope, tenant_context

# Alerts and component changes this long before the declaration belong to the story too.
LEAD_TIME = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Entry:
    at: datetime.datetime
    kind: str  # note, declared, phase, …; alert, component, status_update
    text: str
    by: str = ""
    ref: str = ""  # what it points at: an alert id, "chain:seq" of audit events, a component key


def timeline(incident: Incident, *, now: datetime.datetime | None = None) -> list[Entry]:
    start = incident.declared_at - LEAD_TIME
    end = incident.closed_at or now or timezone.now()
    entries = [Entry(note.created_at, note.kind, note.body, note.author_label) for note in incident.notes.all()]
    entries += _alerts(incident, start, end)
    entries += [
        Entry(interval.started_at, "component", f"{interval.component} became {interval.state}"
              + (f": {interval.detail}" if interval.detail else ""), ref=interval.component)
        for interval in ComponentInterval.objects.filter(component__in=incident.components, started_at__gte=start,
                                                         started_at__lte=end).order_by("started_at")
    ]
    if incident.status_incident_id:
        entries += [Entry(update.created_at, "status_page", f"Public update ({update.status}): {update.body}")
                    for update in IncidentUpdate.objects.filter(incident_id=incident.status_incident_id)]
    return sorted(entries, key=lambda entry: entry.at)


def _alerts(incident: Incident, start: datetime.datetime, end: datetime.datetime) -> list[Entry]:
    """Platform alerts, and the alerts of each organisation the incident concerns (row-level security:
    an organisation's alerts and audit events are read in its own tenant context, one at a time)."""
    entries = []
    with platform_scope():
        entries += _alert_entries(incident, PlatformSecurityAlert.objects.all(), start, end)
    for organisation_id in incident.organisations:
        with tenant_context(uuid.UUID(organisation_id)):
            entries += _alert_entries(incident, SecurityAlert.objects.all(), start, end)
    return entries


def _alert_entries(incident: Incident, alerts: QuerySet[Any], start: datetime.datetime,
                   end: datetime.datetime) -> list[Entry]:
    found = {str(alert.id): alert for alert in alerts.filter(raised_at__gte=start, raised_at__lte=end)}
    if incident.source in (SECURITY_ALERT, PLATFORM_SECURITY_ALERT) and incident.source_ref not in found:
        source = alerts.filter(id=incident.source_ref).first()
        if source is not None:
            found[str(source.id)] = source
    entries = []
    for alert_id, alert in found.items():
        origin = "declared from this alert: " if alert_id == incident.source_ref else ""
        entries.append(Entry(alert.raised_at, "alert", f"{origin}{alert.rule} ({alert.severity}): {alert.summary}",
                             ref=alert_id))
        entries += _linked_events(alert.events)
    return entries


MAX_EVENTS_PER_ALERT = 50


def _linked_events(refs: list[list]) -> list[Entry]:
    """The audit events an alert names (``[chain, seq]`` pairs), read from the chains themselves."""
    wanted = Q()
    for chain, seq in refs[:MAX_EVENTS_PER_ALERT]:
        wanted |= Q(chain_id=chain, seq=seq)
    if not wanted:
        return []
    return [Entry(event.occurred_at, "audit_event", f"{event.action} by {event.actor_label or event.actor_type}",
                  ref=f"{event.chain_id}:{event.seq}")
            for event in AuditEvent.objects.filter(wanted).order_by("occurred_at")]
