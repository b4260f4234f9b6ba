"""Emissions and energy records, suppliers, CSV import and evidence files of a project."""
# No "from __future__ import annotations" here: django-ninja reads these signatures at runtime
# through the @requires wrapper, whose module globals do not hold the annotation names.


import uuid
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import Field, File, Form, Query, Schema, Status
from ninja.files import UploadedFile

from bastion.access_log.recording import shown
from bastion.api.errors import error_body
from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import (
    EmissionIn,
    EmissionOut,
    EmissionPatch,
    EnergyIn,
    EnergyOut,
    EnergyPatch,
    EvidenceOut,
    ImportOut,
    IsoDate,
    PageQuery,
    SupplierIn,
    SupplierOut,
    SupplierPatch,
    Text,
    page_of,
)
from bastion.crypto.blind_index import matching
from bastion.records import csv_export, csv_import, evidence
from bastion.records.editing import delete_record, save_record
from bastion.records.models import EmissionRecord, EnergyRecord, EvidenceFile, Supplier
from bastion.tenancy import replica_reads
from bastion.tenancy.access import requires

router = AuthorizingRouter(tags=["records"])


def acting_user(request):
    """The person behind the request, for ``created_by``; None when an API key acts."""
    return request.user if request.user.is_authenticated else None
BASE = "/orgs/{org}/projects/{project_id}"


class PeriodQuery(PageQuery):
    period_from: IsoDate | None = None
    period_to: IsoDate | None = None


class EmissionQuery(PeriodQuery):
    scope: int | None = None
    category: Text | None = None


class SupplierQuery(PageQuery):
    contact_email: Text | None = Field(None, max_length=254, description="exact match, case-insensitive (blind index)")


def _in_project(request, model, item_id: uuid.UUID):
    return get_object_or_404(model.objects.filter(project=request.access.project), id=item_id)


def _by_period(queryset, q: PeriodQuery):
    """Records whose period overlaps [period_from, period_to]."""
    if q.period_from and q.period_to and q.period_to < q.period_from:
        raise ValidationError({"period_to": ValidationError("period_to is before period_from.", code="period_reversed")})
    if q.period_from:
        queryset = queryset.filter(period_end__gte=q.period_from)
    if q.period_to:
        queryset = queryset.filter(period_start__lte=q.period_to)
    return queryset


def _supplier(request, data: dict) -> dict:
    if data.get("supplier_id") is not None:
        supplier = Supplier.objects.filter(project=request.access.project, id=data.pop("supplier_id")).first()
        if supplier is None:
            raise ValidationError({"supplier_id": ValidationError("No such supplier in this project.", code="not_found")})
        data["supplier"] = supplier
    elif "supplier_id" in data:
        data["supplier"] = data.pop("supplier_id")
    return data


# Emissions ---------------------------------------------------------------------------------


@router.get(BASE + "/emissions", response=page_of(EmissionOut))
@requires("records.view")
@replica_reads.allowed
def list_emissions(request, org: str, project_id: uuid.UUID, q: Query[EmissionQuery]):
    records = _by_period(EmissionRecord.objects.filter(project=request.access.project), q)
    if q.scope is not None:
        if q.scope not in (1, 2, 3):
            raise ValidationError({"scope": ValidationError("Use 1, 2 or 3.", code="invalid_scope")})
        records = records.filter(scope=q.scope)
    if q.category:
        records = records.filter(category=q.category)
    page = paginate(records, q.page, q.page_size)
    shown(request.access, "record_view", "emission_record", page["items"])
    return page


@router.post(BASE + "/emissions", response={201: EmissionOut})
@requires("records.edit")
def create_emission(request, org: str, project_id: uuid.UUID, payload: EmissionIn):
    data = _supplier(request, payload.dict())
    return Status(201, save_record(EmissionRecord, request.access.project, data, user=acting_user(request)))


@router.get(BASE + "/emissions/{emission_id}", response=EmissionOut)
@requires("records.view")
def get_emission(request, org: str, project_id: uuid.UUID, emission_id: uuid.UUID):
    shown(request.access, "record_view", "emission_record", [request.path_objects["emission_id"]])
    return request.path_objects["emission_id"]


@router.patch(BASE + "/emissions/{emission_id}", response=EmissionOut)
@requires("records.edit")
def update_emission(request, org: str, project_id: uuid.UUID, emission_id: uuid.UUID, payload: EmissionPatch):
    record = request.path_objects["emission_id"]
    data = _supplier(request, payload.dict(exclude_unset=True))
    return save_record(EmissionRecord, request.access.project, data, instance=record)


@router.delete(BASE + "/emissions/{emission_id}", response={204: None})
@requires("records.edit")
def delete_emission(request, org: str, project_id: uuid.UUID, emission_id: uuid.UUID):
    delete_record(request.path_objects["emission_id"])
    return Status(204, None)


# Energy ------------------------------------------------------------------------------------


@router.get(BASE + "/energy", response=page_of(EnergyOut))
@requires("records.view")
@replica_reads.allowed
def list_energy(request, org: str, project_id: uuid.UUID, q: Query[PeriodQuery]):
    records = _by_period(EnergyRecord.objects.filter(project=request.access.project), q)
    page = paginate(records, q.page, q.page_size)
    shown(request.access, "record_view", "energy_record", page["items"])
    return page


@router.post(BASE + "/energy", response={201: EnergyOut})
@requires("records.edit")
def create_energy(request, org: str, project_id: uuid.UUID, payload: EnergyIn):
    return Status(201, save_record(EnergyRecord, request.access.project, payload.dict(), user=acting_user(request)))


@router.get(BASE + "/energy/{energy_id}", response=EnergyOut)
@requires("records.view")
def get_energy(request, org: str, project_id: uuid.UUID, energy_id: uuid.UUID):
    shown(request.access, "record_view", "energy_record", [request.path_objects["energy_id"]])
    return request.path_objects["energy_id"]


@router.patch(BASE + "/energy/{energy_id}", response=EnergyOut)
@requires("records.edit")
def update_energy(request, org: str, project_id: uuid.UUID, energy_id: uuid.UUID, payload: EnergyPatch):
    record = request.path_objects["energy_id"]
    return save_record(EnergyRecord, request.access.project, payload.dict(exclude_unset=True), instance=record)


@router.delete(BASE + "/energy/{energy_id}", response={204: None})
@requires("records.edit")
def delete_energy(request, org: str, project_id: uuid.UUID, energy_id: uuid.UUID):
    delete_record(request.path_objects["energy_id"])
    return Status(204, None)


# Suppliers ---------------------------------------------------------------------------------


@router.get(BASE + "/suppliers", response=page_of(SupplierOut))
@requires("suppliers.view")
@replica_reads.allowed
def list_suppliers(request, org: str, project_id: uuid.UUID, q: Query[SupplierQuery]):
    suppliers = Supplier.objects.filter(project=request.access.project)
    if q.contact_email is not None:
        suppliers = suppliers.filter(matching(Supplier, "contact_email", q.contact_email,
                                              organisation_id=request.access.organisation.id))
    return paginate(suppliers, q.page, q.page_size)


@router.post(BASE + "/suppliers", response={201: SupplierOut})
@requires("suppliers.edit")
def create_supplier(request, org: str, project_id: uuid.UUID, payload: SupplierIn):
    return Status(201, save_record(Supplier, request.access.project, payload.dict(), user=acting_user(request)))


@router.get(BASE + "/suppliers/{supplier_id}", response=SupplierOut)
@requires("suppliers.view")
def get_supplier(request, org: str, project_id: uuid.UUID, supplier_id: uuid.UUID):
    return request.path_objects["supplier_id"]


@router.patch(BASE + "/suppliers/{supplier_id}", response=SupplierOut)
@requires("suppliers.edit")
def update_supplier(request, org: str, project_id: uuid.UUID, supplier_id: uuid.UUID, payload: SupplierPatch):
    supplier = request.path_objects["supplier_id"]
    return save_record(Supplier, request.access.project, payload.dict(exclude_unset=True), instance=supplier)


@router.delete(BASE + "/suppliers/{supplier_id}", response={204: None})
@requires("suppliers.edit")
def delete_supplier(request, org: str, project_id: uuid.UUID, supplier_id: uuid.UUID):
    delete_record(request.path_objects["supplier_id"])
    return Status(204, None)


# CSV import --------------------------------------------------------------------------------


class ImportForm(Schema):
    kind: Text


@router.post(BASE + "/imports", response={201: ImportOut, 422: dict})
@requires("records.import")
def import_csv(request, org: str, project_id: uuid.UUID, form: Form[ImportForm], file: File[UploadedFile]):
    report = csv_import.import_records(request.access.project, form.kind, file.read(), user=acting_user(request))
    if not report.ok:
        body = error_body("import_failed", f"{len(report.errors)} problem(s) found; nothing was imported.")
        body["error"]["report"] = report.as_dict()
        return Status(422, body)
    return Status(201, report.as_dict())


class ExportQuery(Schema):
    kind: Literal["emissions", "energy"]


@router.get(BASE + "/export")
@requires("records.view")
def export_csv(request, org: str, project_id: uuid.UUID, q: Query[ExportQuery]):
    """The project's records as CSV, in the import's columns; text that a spreadsheet would run
    as a formula starts with a single quote."""
    shown(request.access, "export", "project", [request.access.project])
    response = HttpResponse(csv_export.export_records(request.access.project, q.kind),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{q.kind}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Evidence ----------------------------------------------------------------------------------


class EvidenceForm(Schema):
    emission_id: uuid.UUID | None = None
    energy_id: uuid.UUID | None = None


@router.get(BASE + "/evidence", response=page_of(EvidenceOut))
@requires("evidence.view")
def list_evidence(request, org: str, project_id: uuid.UUID, q: Query[PageQuery]):
    return paginate(EvidenceFile.objects.filter(project=request.access.project), q.page, q.page_size)


@router.post(BASE + "/evidence", response={201: EvidenceOut})
@requires("evidence.upload")
def upload_evidence(request, org: str, project_id: uuid.UUID, form: Form[EvidenceForm], file: File[UploadedFile]):
    emission = _in_project(request, EmissionRecord, form.emission_id) if form.emission_id else None
    energy = _in_project(request, EnergyRecord, form.energy_id) if form.energy_id else None
    stored = evidence.store_evidence(
        request.access.project, file, user=acting_user(request), emission_record=emission, energy_record=energy
    )
    return Status(201, stored)


@router.get(BASE + "/evidence/{evidence_id}", response=EvidenceOut)
@requires("evidence.view")
def get_evidence(request, org: str, project_id: uuid.UUID, evidence_id: uuid.UUID):
    return request.path_objects["evidence_id"]


@router.get(BASE + "/evidence/{evidence_id}/download")
@requires("evidence.view")
def download_evidence(request, org: str, project_id: uuid.UUID, evidence_id: uuid.UUID):
    shown(request.access, "evidence_download", "evidence_file", [request.path_objects["evidence_id"]])
    return evidence.download_response(request.path_objects["evidence_id"])


@router.delete(BASE + "/evidence/{evidence_id}", response={204: None})
@requires("evidence.upload")
def delete_evidence(request, org: str, project_id: uuid.UUID, evidence_id: uuid.UUID):
    evidence.delete_evidence(request.path_objects["evidence_id"])
    return Status(204, None)
