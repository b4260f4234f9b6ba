"""The console's status-page editor for platform staff: open and update incidents, schedule and
cancel maintenance. Each change goes through ``incidents.py`` (audited, platform chain)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from bastion.backups import status as backup_status
from bastion.operations import incidents, probes
from bastion.operations.models import IMPACTS, INCIDENT_STATUSES, Incident, Maintenance
from bastion.operations.staff import platform_staff
from bastion.operations.views.status_page import base_url


def _component_choices():
    return [(c.key, c.name) for c in probes.components()]


class IncidentForm(forms.Form):
    title = forms.CharField(max_length=200)
    impact = forms.ChoiceField(choices=IMPACTS, initial="minor")
    status = forms.ChoiceField(choices=INCIDENT_STATUSES[:-1])
    components = forms.MultipleChoiceField(choices=_component_choices, required=False,
                                           widget=forms.CheckboxSelectMultiple)
    body = forms.CharField(widget=forms.Textarea, max_length=5000, label="Message")


class UpdateForm(forms.Form):
    status = forms.ChoiceField(choices=INCIDENT_STATUSES)
    body = forms.CharField(widget=forms.Textarea, max_length=5000, label="Message")


class MaintenanceForm(forms.Form):
    title = forms.CharField(max_length=200)
    components = forms.MultipleChoiceField(choices=_component_choices, widget=forms.CheckboxSelectMultiple)
    starts_at = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 22:00")
    ends_at = forms.DateTimeField(help_text="UTC")
    body = forms.CharField(widget=forms.Textarea, max_length=5000, required=False, label="Details")


def _notifier(request):
    from bastion.operations.tasks import notify_subscribers

    url = base_url(request)
    return lambda incident_id, update_id: notify_subscribers(incident_id, update_id, url)


def _page(request, status=200, **forms_):
    return render(request, "operations/status_admin.html", {
        "incidents": Incident.objects.prefetch_related("updates")[:50],
        "maintenances": Maintenance.objects.filter(ends_at__gt=timezone.now(), cancelled=False).order_by("starts_at"),
        "incident_form": forms_.get("incident_form") or IncidentForm(),
        "maintenance_form": forms_.get("maintenance_form") or MaintenanceForm(),
        "update_form": UpdateForm(),
        "update_errors": forms_.get("update_errors"),
        "drills": backup_status.recent_drills(),
    }, status=status)


def _apply(form, errors: ValidationError):
    for field, messages_ in errors.message_dict.items():
        form.add_error(field if field in form.fields else None, messages_)


@platform_staff
def status_admin(request):
    return _page(request)


@platform_staff
@require_POST
def incident_create(request):
    form = IncidentForm(request.POST)
    if form.is_valid():
        try:
            incidents.open_incident(notify=_notifier(request), **form.cleaned_data)
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, "Incident opened; subscribers are being emailed.")
            return redirect("status_admin")
    return _page(request, status=400, incident_form=form)


@platform_staff
@require_POST
def incident_update(request, incident_id):
    incident = get_object_or_404(Incident, id=incident_id)
    form = UpdateForm(request.POST)
    if form.is_valid():
        try:
            incidents.post_update(incident, notify=_notifier(request), **form.cleaned_data)
        except ValidationError as exc:
            return _page(request, status=400, update_errors=exc.messages)
        messages.success(request, "Update posted; subscribers are being emailed.")
        return redirect("status_admin")
    return _page(request, status=400, update_errors=[e for errs in form.errors.values() for e in errs])


@platform_staff
@require_POST
def maintenance_create(request):
    form = MaintenanceForm(request.POST)
    if form.is_valid():
        try:
            incidents.schedule_maintenance(**form.cleaned_data)
        except ValidationError as exc:
            _apply(form, exc)
        else:
            messages.success(request, "Maintenance scheduled.")
            return redirect("status_admin")
    return _page(request, status=400, maintenance_form=form)


@platform_staff
@require_POST
def maintenance_cancel(request, maintenance_id):
    incidents.cancel_maintenance(get_object_or_404(Maintenance, id=maintenance_id))
    messages.success(request, "Maintenance cancelled.")
    return redirect("status_admin")
