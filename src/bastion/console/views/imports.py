"""CSV import into a project: all rows or none, with a row-by-row report of what is wrong."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render

from bastion.console.forms import CsvImportForm
from bastion.records.csv_import import COLUMNS, CsvImportError, import_records
from bastion.tenancy.access import requires


@requires("records.import")
def import_csv(request, org, project_id):
    project = request.access.project
    form = CsvImportForm(request.POST, request.FILES) if request.method == "POST" else CsvImportForm()
    report = None
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        # One byte over the limit is enough for import_records to refuse the file as too large.
        data = form.cleaned_data["file"].read(settings.BASTION_CSV_MAX_BYTES + 1)
        try:
            report = import_records(project, kind, data, user=request.user)
        except CsvImportError as error:
            form.add_error("file", error.message)
        else:
            if report.ok:
                messages.success(request, f"Imported {report.created} {kind} records.")
                target = "console:project" if kind == "emissions" else "console:energy"
                return redirect(target, org=org, project_id=project.id)
    return render(request, "console/import.html", {
        "project": project,
        "form": form,
        "report": report,
        "columns": COLUMNS,
    })
