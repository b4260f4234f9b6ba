"""A project's energy records: list, create, edit (with the record's evidence), delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.access_log.recording import shown
from bastion.console.forms import EnergyForm, EvidenceUploadForm, add_action_errors
from bastion.records.editing import delete_record, save_record
from bastion.records.models import EnergyRecord
from bastion.tenancy.access import requires

PAGE_SIZE = 50


def _energy(request, energy_id) -> EnergyRecord:
    return get_object_or_404(EnergyRecord.objects.filter(project=request.access.project), id=energy_id)


@requires("records.view")
def energy(request, org, project_id):
    records = EnergyRecord.objects.filter(project=request.access.project)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    shown(request.access, "record_view", "energy_record", page.object_list)
    return render(request, "console/energy_list.html", {"project": request.access.project, "page": page})


def _edit(request, org, record: EnergyRecord | None):
    access = request.access
    project = access.project
    initial = EnergyForm.initial_from(record) if record else {}
    form = EnergyForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        try:
            record = save_record(EnergyRecord, project, form.cleaned_data, user=request.user, instance=record)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Energy record saved.")
            return redirect("console:energy_edit", org=org, project_id=project.id, energy_id=record.id)
    context = {"project": project, "record": record, "form": form}
    if record is not None and record.pk:
        if access.can("evidence.view"):
            context["evidence"] = list(record.evidence.all())
        if access.can("evidence.upload"):
            context["upload_form"] = EvidenceUploadForm(initial={"energy_id": record.id})
    return render(request, "console/energy_form.html", context)


@requires("records.edit")
def energy_create(request, org, project_id):
    return _edit(request, org, None)


@requires("records.edit")
def energy_edit(request, org, project_id, energy_id):
    return _edit(request, org, _energy(request, energy_id))


@requires("records.edit")
@require_POST
def energy_delete(request, org, project_id, energy_id):
    delete_record(_energy(request, energy_id))
    messages.success(request, "Energy record deleted.")
    return redirect("console:energy", org=org, project_id=project_id)
