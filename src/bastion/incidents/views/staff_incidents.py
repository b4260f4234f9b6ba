"""The staff console for incidents (``/staff/incidents/``, security role): the list with timers, declaring
one, and an incident's page where every step is a form posting an ``action`` to the incident.

Each action calls one service function; a refusal of the incident's rules answers 409, bad input
400 with the page and its errors, never a traceback.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from bastion.incidents import notifications, response, scoping, timeline
from bastion.incidents.models import CLOSED, PHASES, SEVERITIES, BreachNotice, Incident, ScopingResult
from bastion.operations.models import PlatformSecurityAlert, SecurityAlert
from bastion.support_access.staff import staff_only
from bastion.tenancy.context import platform_scope, tenant_context
from bastion.tenancy.models import Organisation

SECURITY = "security"


class DeclareForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=SEVERITIES)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False)
    exercise = forms.BooleanField(required=False, label="A tabletop exercise (synthetic data, never sent to customers)")


class FromAlertForm(forms.Form):
    alert = forms.UUIDField(help_text="the security alert's id")
    organisation = forms.SlugField(required=False, help_text="its organisation's slug (empty: a platform alert)")
    severity = forms.ChoiceField(choices=[("", "the alert's"), *SEVERITIES], required=False)


class FromComponentForm(forms.Form):
    component = forms.CharField(max_length=40, help_text="a status-page component key, e.g. database")
    severity = forms.ChoiceField(choices=SEVERITIES, initial="critical")


class ScopeForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k.replace("_", " ")) for k in scoping.KINDS])
    subject = forms.CharField(max_length=200, help_text="user id or email, API key id, SCIM token id, grant id, "
                                                        "or an address/network")
    start = forms.DateTimeField(help_text="UTC, e.g. 2026-11-30 09:00")
    end = forms.DateTimeField(help_text="UTC; a window that has ended")


def _alert(form: FromAlertForm) -> SecurityAlert | PlatformSecurityAlert:
    data = form.cleaned_data
    if not data["organisation"]:
        with platform_scope():
            return get_object_or_404(PlatformSecurityAlert, id=data["alert"])
    with platform_scope():
        organisation = get_object_or_404(Organisation, slug=data["organisation"])
    with tenant_context(organisation.id):
        return get_object_or_404(SecurityAlert, id=data["alert"])


def _declare(request: HttpRequest) -> Incident | None:
    """From the form that was posted (by hand, from an alert, or from a component); None when invalid."""
    by = request.user
    if "alert" in request.POST:
        alert_form = FromAlertForm(request.POST)
        return response.declare_from_alert(_alert(alert_form), by=by,  # type: ignore[arg-type]
                                           severity=alert_form.cleaned_data["severity"]) if alert_form.is_valid() else None
    if "component" in request.POST:
        component_form = FromComponentForm(request.POST)
        return response.declare_from_component(component_form.cleaned_data["component"], by=by,  # type: ignore[arg-type]
                                               severity=component_form.cleaned_data["severity"]) \
            if component_form.is_valid() else None
    form = DeclareForm(request.POST)
    return response.declare(by=by, **form.cleaned_data) if form.is_valid() else None  # type: ignore[arg-type]


@staff_only(SECURITY)
def incident_list(request: HttpRequest) -> HttpResponse:
    status, errors = 200, []
    if request.method == "POST":
        try:
            incident = _declare(request)
        except ValidationError as invalid:
            incident, errors = None, invalid.messages
        if incident is not None:
            messages.success(request, f"{incident.reference} declared.")
            return redirect("staff_incident", incident_id=incident.id)
        status, errors = 400, errors or ["The incident is incomplete: see the form."]
    rows = [{"incident": i, "timers": response.timers(i)} for i in Incident.objects.exclude(phase=CLOSED)]
    closed = Incident.objects.filter(phase=CLOSED)[:50]
    return render(request, "incidents/staff_incidents.html", {
        "form": DeclareForm(request.POST if "title" in request.POST else None), "alert_form": FromAlertForm(),
        "component_form": FromComponentForm(), "rows": rows, "closed": closed, "now": timezone.now(),
        "errors": errors}, status=status)


def _notices(incident: Incident) -> list[dict[str, object]]:
    rows = []
    for organisation_id in {*incident.organisations, *(str(o) for o in _notice_organisations(incident))}:
        with tenant_context(uuid.UUID(organisation_id)):
            rows += [{"notice": n, "missing": notifications.missing_items(n)}
                     for n in BreachNotice.objects.filter(incident=incident)]
    return sorted(rows, key=lambda row: (str(row["notice"].organisation_id), row["notice"].phase))  # type: ignore[attr-defined]


def _notice_organisations(incident: Incident) -> set[str]:
    with platform_scope():
        return {org["id"] for scoped in ScopingResult.objects.filter(incident=incident)
                for org in scoped.result["organisations"]}


def _page(request: HttpRequest, incident: Incident, *, status: int = 200, errors: list[str] | None = None,
          scope_form: ScopeForm | None = None) -> HttpResponse:
    with platform_scope():
        scopings = list(ScopingResult.objects.filter(incident=incident))
    return render(request, "incidents/staff_incident.html", {
        "incident": incident, "timers": response.timers(incident), "timeline": timeline.timeline(incident),
        "phases": PHASES, "severities": SEVERITIES, "next_phase": _next_phase(incident),
        "deadline": notifications.deadline(incident), "scopings": scopings, "notices": _notices(incident),
        "scope_form": scope_form or ScopeForm(), "errors": errors or [], "now": timezone.now(),
    }, status=status)


def _next_phase(incident: Incident) -> str | None:
    order = [key for key, _ in PHASES]
    index = order.index(incident.phase)
    return order[index + 1] if index + 1 < len(order) else None


@staff_only(SECURITY)
def incident_page(request: HttpRequest, incident_id: uuid.UUID) -> HttpResponse:
    incident = get_object_or_404(Incident, id=incident_id)
    if request.method != "POST":
        return _page(request, incident)
    action = ACTIONS.get(request.POST.get("action", ""))
    if action is None:
        return _page(request, incident, status=400, errors=["Unknown action."])
    try:
        done = action(request, incident)
    except (response.NotAllowed, notifications.NotAllowed) as refused:
        return _page(request, incident, status=409, errors=[str(refused)])
    except ValidationError as invalid:
        return _page(request, incident, status=400, errors=invalid.messages)
    if isinstance(done, HttpResponse):
        return done
    messages.success(request, done)
    return redirect("staff_incident", incident_id=incident.id)


def _take_command(request: HttpRequest, incident: Incident) -> str:
    response.take_command(incident, commander=request.user, by=request.user)  # type: ignore[arg-type]
    return "You are the incident commander."


def _advance(request: HttpRequest, incident: Incident) -> str:
    incident = response.advance(incident, request.POST.get("phase", ""), by=request.user,  # type: ignore[arg-type]
                                note=request.POST.get("note", ""))
    return f"Now in {incident.get_phase_display()}."


def _severity(request: HttpRequest, incident: Incident) -> str:
    response.change_severity(incident, request.POST.get("severity", ""), by=request.user,  # type: ignore[arg-type]
                             reason=request.POST.get("reason", ""))
    return "Severity changed."


def _note(request: HttpRequest, incident: Incident) -> str:
    response.add_note(incident, request.POST.get("body", ""), by=request.user)  # type: ignore[arg-type]
    return "Note added."


def _status_page(request: HttpRequest, incident: Incident) -> str:
    response.update_status_page(incident, status=request.POST.get("status", ""), body=request.POST.get("body", ""),
                                impact=request.POST.get("impact", "major"), by=request.user)  # type: ignore[arg-type]
    return "Status page updated."


def _review(request: HttpRequest, incident: Incident) -> str:
    follow_ups = [response.FollowUp(line.strip()) for line in request.POST.get("follow_ups", "").splitlines()
                  if line.strip()]
    response.record_review(incident, review=request.POST.get("review", ""), follow_ups=follow_ups,
                           by=request.user)  # type: ignore[arg-type]
    return "Review recorded."


def _confirm_breach(request: HttpRequest, incident: Incident) -> str:
    incident = notifications.confirm_breach(incident, by=request.user)  # type: ignore[arg-type]
    due = notifications.deadline(incident)
    return f"Personal data breach confirmed: notify by {due.due:%Y-%m-%d %H:%M} UTC." if due else "Confirmed."


def _scope(request: HttpRequest, incident: Incident) -> str | HttpResponse:
    form = ScopeForm(request.POST)
    if not form.is_valid():
        return _page(request, incident, status=400, scope_form=form, errors=["The scoping request is incomplete."])
    data = form.cleaned_data
    start, end = (value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value
                  for value in (data["start"], data["end"]))
    saved = scoping.run(incident, scoping.Subject(data["kind"], data["subject"].strip()), start, end,
                        by=request.user)  # type: ignore[arg-type]
    return f"Scoped: {len(saved.result['organisations'])} organisation(s), digest {saved.digest[:16]}…"


def _draft(request: HttpRequest, incident: Incident) -> str:
    with platform_scope():
        saved = get_object_or_404(ScopingResult, id=_posted_id(request, "scoping"), incident=incident)
    drafts = notifications.draft_notices(incident, saved, by=request.user)  # type: ignore[arg-type]
    return f"{len(drafts)} notice(s) drafted."


def _posted_id(request: HttpRequest, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.POST.get(name, ""))
    except ValueError:
        raise ValidationError(f"Choose the {name}.", code="required") from None


def _notice(request: HttpRequest, incident: Incident) -> BreachNotice:
    with tenant_context(_posted_id(request, "organisation")):
        return get_object_or_404(BreachNotice, id=_posted_id(request, "notice"), incident=incident)


def _edit_notice(request: HttpRequest, incident: Incident) -> str:
    fields = {name: request.POST[name] for name in ("nature", "contact_point", "likely_consequences", "measures")
              if name in request.POST}
    notifications.edit(_notice(request, incident), by=request.user, **fields)  # type: ignore[arg-type]
    return "Notice saved."


def _send_notice(request: HttpRequest, incident: Incident) -> str:
    notifications.send(_notice(request, incident), by=request.user,  # type: ignore[arg-type]
                       delay_reason=request.POST.get("delay_reason", ""))
    return "Notice sent."


ACTIONS: dict[str, Callable[[HttpRequest, Incident], str | HttpResponse]] = {
    "take_command": _take_command, "advance": _advance, "severity": _severity, "note": _note,
    "status_page": _status_page, "review": _review, "confirm_breach": _confirm_breach, "scope": _scope,
    "draft_notices": _draft, "edit_notice": _edit_notice, "send_notice": _send_notice,
}
