"""A project's suppliers: list, create, edit, delete."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.console.forms import SupplierForm, add_action_errors
from bastion.records.editing import delete_record, save_record
from bastion.records.models import Supplier
from bastion.tenancy.access import requires


def _supplier(request, supplier_id) -> Supplier:
    return get_object_or_404(Supplier.objects.filter(project=request.access.project), id=supplier_id)


@requires("suppliers.view")
def suppliers(request, org, project_id):
    return render(request, "console/supplier_list.html", {
        "project": request.access.project,
        "suppliers": list(Supplier.objects.filter(project=request.access.project)),
    })


def _edit(request, org, supplier: Supplier | None):
    project = request.access.project
    initial = SupplierForm.initial_from(supplier) if supplier else {}
    form = SupplierForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_valid():
        try:
            save_record(Supplier, project, form.cleaned_data, user=request.user, instance=supplier)
        except ValidationError as error:
            add_action_errors(form, error)
        else:
            messages.success(request, "Supplier saved.")
            return redirect("console:suppliers", org=org, project_id=project.id)
    return render(request, "console/supplier_form.html", {"project": project, "supplier": supplier, "form": form})


@requires("suppliers.edit")
def supplier_create(request, org, project_id):
    return _edit(request, org, None)


@requires("suppliers.edit")
def supplier_edit(request, org, project_id, supplier_id):
    return _edit(request, org, _supplier(request, supplier_id))


@requires("suppliers.edit")
@require_POST
def supplier_delete(request, org, project_id, supplier_id):
    delete_record(_supplier(request, supplier_id))
    messages.success(request, "Supplier deleted.")
    return redirect("console:suppliers", org=org, project_id=project_id)
