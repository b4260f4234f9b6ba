"""A project's emissions records: the list (the project's front page), one record, create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.access_log.recording import shown
from bastion.console.forms import EmissionFilterForm, EmissionForm, EvidenceUploadForm, add_action_errors
from bastion.console.views import emissions_totals
from bastion.emissions import filters as emission_filters
from bastion.records.editing import delete_record, save_record
from bastion.records.models import EmissionRecord
from bastion.tenancy.access import requires

PAGE_SIZE = 50


def _emission(request, emission_id) -> EmissionRecord:
    records = EmissionRecord.objects.filter(project=request.access.project).select_related("supplier")
    return get_object_or_404(records, id=emission_id)


def _filtered(request, filters: EmissionFilterForm):
    records = EmissionRecord.objects.filter(project=request.access.project).select_related("supplier", "co2e")
    if filters.is_valid():
        records = emission_filters.filtered(records, **filters.cleaned_data)
    return records


@requires("projects.view")
def project(request, org, project_id):
    context = {"project": request.access.project}
    if request.access.can("records.view"):
        filters = EmissionFilterForm(request.GET)
        context["filters"] = filters
        records = _filtered(request, filters)
        context["page"] = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
        context.update(emissions_totals.totals_context(records, request.GET))
        shown(request.access, "record_view", "emission_record", context["page"].object_list)
    return render(request, "console/project.html", context)


@requires("records.view")
def emission(request, org, project_id, emission_id):
    record = _emission(request, emission_id)
    access = request.access
    shown(access, "record_view", "emission_record", [record])
    return render(request, "console/emission.html", {
        "project": access.project,
        "record": record,
        "evidence": list(record.evidence.all()) if access.can("evidence.view") else None,
        "upload_form": EvidenceUploadForm(initial={"emission_id": record.id}) if access.can("evidence.upload") else None,
        **emissions_totals.factor_context(access, record),
    })


def _edit(request, org, record: EmissionRecord | None):
    project = request.access.project
    initial = EmissionForm.initial_from(record) if record else {}
    form = EmissionForm(request.POST if request.method == "POST" else None, initial=initial, project=project)
    if form.is_valid():
        try:
            record = save_record(EmissionRecord, project, form.cleaned_data, user=request.user, instance=record)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Emissions record saved.")
            return redirect("console:emission", org=org, project_id=project.id, emission_id=record.id)
    return render(request, "console/emission_form.html", {"project": project, "record": record, "form": form})


@requires("records.edit")
def emission_create(request, org, project_id):
    return _edit(request, org, None)


@requires("records.edit")
def emission_edit(request, org, project_id, emission_id):
    return _edit(request, org, _emission(request, emission_id))


@requires("records.edit")
@require_POST
def emission_delete(request, org, project_id, emission_id):
    delete_record(_emission(request, emission_id))
    messages.success(request, "Emissions record deleted.")
    return redirect("console:project", org=org, project_id=project_id)
