"""Incidents for platform staff of the security role, under ``/api/v1/staff/incidents``: the list with
timers, declaring one (by hand, from a security alert, or from a failing component), an incident
with its timeline, and its steps. Anyone else is told these paths do not exist (404)."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid

from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from bastion.api.schemas import Text
from bastion.incidents import response, timeline
from bastion.incidents.models import CLOSED, Incident
from bastion.operations.models import PlatformSecurityAlert, SecurityAlert
from bastion.support_access.staff import staff_only
from bastion.tenancy.context import platform_scope, tenant_context
from bastion.tenancy.models import Organisation

router = Router(tags=["staff"])
security_staff = staff_only("security")


class TimerOut(Schema):
    name: str
    target: str
    due: datetime.datetime
    done_at: datetime.datetime | None
    late: bool


class IncidentOut(Schema):
    id: uuid.UUID
    reference: str
    title: str
    severity: str
    phase: str
    exercise: bool
    source: str
    source_ref: str
    declared_at: datetime.datetime
    commander: str | None
    breach_confirmed_at: datetime.datetime | None
    timers: list[TimerOut]


class EntryOut(Schema):
    at: datetime.datetime
    kind: str
    text: str
    by: str
    ref: str


class IncidentDetailOut(IncidentOut):
    summary: str
    timeline: list[EntryOut]


class DeclareIn(Schema):
    title: Text = Field("", max_length=200)
    severity: str = Field("", pattern="^(|critical|high|medium|low)$")
    summary: Text = Field("", max_length=5000)
    exercise: bool = False
    alert: uuid.UUID | None = Field(None, description="declare from this security alert")
    organisation: str = Field("", description="the alert's organisation (slug); empty for a platform alert")
    component: str = Field("", description="declare from this failing status-page component")


class PhaseIn(Schema):
    phase: str
    note: Text = Field("", max_length=4000)


class NoteIn(Schema):
    body: Text = Field(..., max_length=5000)


def incident_out(incident: Incident, *, detail: bool = False) -> dict:
    now = datetime.datetime.now(datetime.UTC)
    out = {
        "id": incident.id, "reference": incident.reference, "title": incident.title, "severity": incident.severity,
        "phase": incident.phase, "exercise": incident.exercise, "source": incident.source,
        "source_ref": incident.source_ref, "declared_at": incident.declared_at,
        "commander": incident.commander.email if incident.commander else None,
        "breach_confirmed_at": incident.breach_confirmed_at,
        "timers": [{"name": t.name, "target": t.target, "due": t.due, "done_at": t.done_at, "late": t.late(now)}
                   for t in response.timers(incident)],
    }
    if detail:
        out["summary"] = incident.summary
        out["timeline"] = [entry.__dict__ for entry in timeline.timeline(incident)]
    return out


def _alert(alert_id: uuid.UUID, slug: str):
    if not slug:
        with platform_scope():
            return get_object_or_404(PlatformSecurityAlert, id=alert_id)
    with platform_scope():
        organisation = get_object_or_404(Organisation, slug=slug)
    with tenant_context(organisation.id):
        return get_object_or_404(SecurityAlert, id=alert_id)


@router.get("/staff/incidents", response=list[IncidentOut])
@security_staff
def list_incidents(request):
    """Open incidents first, then the last 50 closed."""
    found = list(Incident.objects.exclude(phase=CLOSED).select_related("commander"))
    found += list(Incident.objects.filter(phase=CLOSED).select_related("commander")[:50])
    return [incident_out(i) for i in found]


@router.post("/staff/incidents", response={201: IncidentDetailOut})
@security_staff
def declare(request, payload: DeclareIn):
    if payload.alert:
        incident = response.declare_from_alert(_alert(payload.alert, payload.organisation), by=request.user,
                                               severity=payload.severity)
    elif payload.component:
        incident = response.declare_from_component(payload.component, by=request.user,
                                                   severity=payload.severity or "critical")
    else:
        incident = response.declare(title=payload.title, severity=payload.severity, summary=payload.summary,
                                    exercise=payload.exercise, by=request.user)
    return Status(201, incident_out(incident, detail=True))


@router.get("/staff/incidents/{incident_id}", response=IncidentDetailOut)
@security_staff
def get_incident(request, incident_id: uuid.UUID):
    return incident_out(get_object_or_404(Incident, id=incident_id), detail=True)


@router.post("/staff/incidents/{incident_id}/command", response=IncidentDetailOut)
@security_staff
def take_command(request, incident_id: uuid.UUID):
    incident = response.take_command(get_object_or_404(Incident, id=incident_id), commander=request.user,
                                     by=request.user)
    return incident_out(incident, detail=True)


@router.post("/staff/incidents/{incident_id}/phase", response=IncidentDetailOut)
@security_staff
def advance(request, incident_id: uuid.UUID, payload: PhaseIn):
    incident = response.advance(get_object_or_404(Incident, id=incident_id), payload.phase, by=request.user,
                                note=payload.note)
    return incident_out(incident, detail=True)


@router.post("/staff/incidents/{incident_id}/notes", response={201: IncidentDetailOut})
@security_staff
def add_note(request, incident_id: uuid.UUID, payload: NoteIn):
    incident = get_object_or_404(Incident, id=incident_id)
    response.add_note(incident, payload.body, by=request.user)
    return Status(201, incident_out(incident, detail=True))
