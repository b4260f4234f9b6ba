"""Evidence files of a project: list, upload (to the project or one record), download, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.access_log.recording import shown
from bastion.console.forms import EvidenceUploadForm
from bastion.records.evidence import delete_evidence, download_response, store_evidence
from bastion.records.models import EmissionRecord, EnergyRecord, EvidenceFile
from bastion.tenancy.access import requires


def _evidence(request, evidence_id) -> EvidenceFile:
    return get_object_or_404(EvidenceFile.objects.filter(project=request.access.project), id=evidence_id)


def _back_to(org, project_id, *, emission_id=None, energy_id=None):
    """Where the upload or delete came from: the record's page, else the project's evidence list."""
    if emission_id:
        return redirect("console:emission", org=org, project_id=project_id, emission_id=emission_id)
    if energy_id:
        return redirect("console:energy_edit", org=org, project_id=project_id, energy_id=energy_id)
    return redirect("console:evidence", org=org, project_id=project_id)


@requires("evidence.view")
def evidence(request, org, project_id):
    access = request.access
    files = EvidenceFile.objects.filter(project=access.project).select_related("emission_record", "energy_record")
    return render(request, "console/evidence_list.html", {
        "project": access.project,
        "evidence": list(files),
        "upload_form": EvidenceUploadForm() if access.can("evidence.upload") else None,
    })


@requires("evidence.upload")
@require_POST
def evidence_upload(request, org, project_id):
    project = request.access.project
    form = EvidenceUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("console:evidence", org=org, project_id=project_id)
    emission_id, energy_id = form.cleaned_data["emission_id"], form.cleaned_data["energy_id"]
    emission_record = energy_record = None
    if emission_id:
        emission_record = get_object_or_404(EmissionRecord.objects.filter(project=project), id=emission_id)
    if energy_id:
        energy_record = get_object_or_404(EnergyRecord.objects.filter(project=project), id=energy_id)
    try:
        stored = store_evidence(
            project, form.cleaned_data["file"], user=request.user,
            emission_record=emission_record, energy_record=energy_record,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"Uploaded “{stored.filename}”.")
    return _back_to(org, project_id, emission_id=emission_id, energy_id=energy_id)


@requires("evidence.view")
def evidence_download(request, org, project_id, evidence_id):
    stored = _evidence(request, evidence_id)
    shown(request.access, "evidence_download", "evidence_file", [stored])
    return download_response(stored)


@requires("evidence.upload")
@require_POST
def evidence_delete(request, org, project_id, evidence_id):
    file = _evidence(request, evidence_id)
    delete_evidence(file)
    messages.success(request, f"Deleted “{file.filename}”.")
    return _back_to(org, project_id, emission_id=file.emission_record_id, energy_id=file.energy_record_id)
