"""Emissions accounting: the factor library, a record's factor and kgCO2e, totals of a project or
a workspace, and exports (CSV, XLSX) of what the filters show."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import uuid
from decimal import Decimal
from typing import Literal

from django.http import FileResponse
from ninja import Field, Query, Schema, Status

from bastion.access_log.recording import shown
from bastion.api.records import acting_user
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import IsoDate, Text
from bastion.emissions import calculation, exports, library, totals
from bastion.emissions.filters import filtered
from bastion.emissions.models import Calculation, EmissionFactor
from bastion.records.models import EmissionRecord
from bastion.records.vocabulary import ALL_CATEGORIES, UNITS
from bastion.tenancy import artifacts
from bastion.tenancy.access import requires

router = AuthorizingRouter(tags=["emissions"])
BASE = "/orgs/{org}/projects/{project_id}"


class EmissionsErrorDetail(Schema):
    code: str
    message: str
    fields: dict = {}


class EmissionsError(Schema):
    error: EmissionsErrorDetail


# Every status these operations can answer besides success, in the one error shape.
ERRORS = {status: EmissionsError for status in (400, 401, 403, 404, 409, 422, 429)}


class FactorOut(Schema):
    ref: str
    key: str
    version: int
    name: str
    category: str
    unit: str
    kgco2e_per_unit: Decimal
    basis: str
    publisher: str
    dataset: str
    year: int
    licence: str
    source: str


class FactorIn(Schema):
    key: Text = Field(..., max_length=80, pattern=r"^[a-z0-9][a-z0-9_]*$",
                      description="a new key starts at version 1; an existing key gets its next version")
    name: Text = Field(..., min_length=1, max_length=200)
    category: Literal[tuple(sorted(ALL_CATEGORIES))]  # type: ignore[valid-type]
    unit: Literal[tuple(sorted(UNITS))]  # type: ignore[valid-type]
    kgco2e_per_unit: Decimal = Field(..., ge=0, lt=Decimal("1e12"), max_digits=24, decimal_places=9)
    basis: Literal["", "location", "market"] = ""
    publisher: Text = Field(..., min_length=1, max_length=200)
    dataset: Text = Field("", max_length=300)
    year: int = Field(..., ge=1990, le=2100)
    licence: Text = Field("", max_length=200)


class FactorQuery(Schema):
    category: Literal[tuple(sorted(ALL_CATEGORIES))] | None = None  # type: ignore[valid-type]
    unit: Literal[tuple(sorted(UNITS))] | None = None  # type: ignore[valid-type]
    year: int | None = Field(None, ge=1990, le=2100)


class CalculationOut(Schema):
    record_id: uuid.UUID = Field(..., alias="record.id")
    factor_ref: str
    factor_name: str
    factor_value: Decimal
    factor_unit: str
    factor_publisher: str
    factor_dataset: str
    factor_year: int
    factor_licence: str
    kgco2e: Decimal
    market_factor_ref: str
    market_factor_value: Decimal | None
    kgco2e_market: Decimal | None


class RecordFactorOut(Schema):
    calculation: CalculationOut | None
    suggestions: list[FactorOut]


class FactorChoice(Schema):
    factor: Text = Field(..., max_length=120, description="a reference from the factor list, e.g. desnz/uk_electricity_kwh@2024")
    market_factor: Text | None = Field(None, max_length=120, description="scope 2 only: a market-based factor")


class TotalsQuery(Schema):
    scope: int | None = Field(None, ge=1, le=3)
    category: Literal[tuple(sorted(ALL_CATEGORIES))] | None = None  # type: ignore[valid-type]
    site: Text = Field("", max_length=200, description="one site's records; empty for every site")
    period_from: IsoDate | None = None
    period_to: IsoDate | None = None


class ExportQuery(TotalsQuery):
    what: Literal["records", "totals"] = "records"
    format: Literal["csv", "xlsx"] = "xlsx"


class ScopeTotal(Schema):
    scope: int
    kgco2e: Decimal


class CategoryTotal(Schema):
    category: str
    label: str
    kgco2e: Decimal


class SiteTotal(Schema):
    site: str
    kgco2e: Decimal


class YearTotal(Schema):
    year: int
    scope_1: Decimal
    scope_2: Decimal
    scope_3: Decimal
    total: Decimal
    change_percent: Decimal | None


class TotalsOut(Schema):
    total_kgco2e: Decimal
    total_kgco2e_market_based: Decimal
    by_scope: list[ScopeTotal]
    scope_2_market_based_kgco2e: Decimal
    by_category: list[CategoryTotal]
    by_site: list[SiteTotal]
    by_year: list[YearTotal]
    records: int
    uncalculated_records: int


def _filters(q: TotalsQuery) -> dict:
    return {"scope": q.scope, "category": q.category, "site": q.site, "period_from": q.period_from,
            "period_to": q.period_to}


# The factor library -----------------------------------------------------------------------


@router.get("/orgs/{org}/emission-factors", response={200: list[FactorOut], **ERRORS})
@requires("organisation.view")
def list_factors(request, org: str, q: Query[FactorQuery]):
    """The shipped factors and the organisation's custom factors (every version)."""
    factors = library.available(request.access.organisation.id, category=q.category)
    if q.unit:
        factors = library.suggest(request.access.organisation.id, q.category, q.unit, q.year) if q.category else [
            f for f in factors if f.unit == q.unit]
    return [f.as_dict() for f in factors]


@router.post("/orgs/{org}/emission-factors", response={201: FactorOut, **ERRORS})
@requires("organisation.manage")
def create_factor(request, org: str, payload: FactorIn):
    """A custom factor; posting an existing key adds its next version (earlier versions and every
    figure computed from them stay as they were)."""
    factor: EmissionFactor = library.create_custom_factor(request.access.organisation.id, payload.dict(),
                                                          user=acting_user(request))
    return Status(201, library.as_factor(factor).as_dict())


# A record's factor ------------------------------------------------------------------------


@router.get(BASE + "/emissions/{emission_id}/factor", response={200: RecordFactorOut, **ERRORS})
@requires("records.view")
def get_record_factor(request, org: str, project_id: uuid.UUID, emission_id: uuid.UUID):
    record: EmissionRecord = request.path_objects["emission_id"]
    shown(request.access, "record_view", "emission_record", [record])
    suggestions = library.suggest(record.organisation_id, record.category, record.unit, record.period_start.year)
    return {"calculation": Calculation.objects.filter(record=record).select_related("record").first(),
            "suggestions": [f.as_dict() for f in suggestions]}


@router.put(BASE + "/emissions/{emission_id}/factor", response={200: CalculationOut, **ERRORS})
@requires("records.edit")
def set_record_factor(request, org: str, project_id: uuid.UUID, emission_id: uuid.UUID, payload: FactorChoice):
    """Choose the record's factor; its kgCO2e is computed with the factor's value copied in."""
    return calculation.assign(request.path_objects["emission_id"], payload.factor, payload.market_factor,
                              user=acting_user(request))


@router.delete(BASE + "/emissions/{emission_id}/factor", response={204: None, **ERRORS})
@requires("records.edit")
def clear_record_factor(request, org: str, project_id: uuid.UUID, emission_id: uuid.UUID):
    calculation.clear(request.path_objects["emission_id"])
    return Status(204, None)


# Totals and exports -----------------------------------------------------------------------


@router.get(BASE + "/emission-totals", response={200: TotalsOut, **ERRORS})
@requires("records.view")
def project_totals(request, org: str, project_id: uuid.UUID, q: Query[TotalsQuery]):
    records = filtered(EmissionRecord.objects.filter(project=request.access.project), **_filters(q))
    return totals.compute(records).as_dict()


@router.get("/orgs/{org}/workspaces/{workspace_id}/emission-totals", response={200: TotalsOut, **ERRORS})
@requires("records.view")
def workspace_totals(request, org: str, workspace_id: uuid.UUID, q: Query[TotalsQuery]):
    records = filtered(EmissionRecord.objects.filter(project__workspace=request.access.workspace), **_filters(q))
    return totals.compute(records).as_dict()


def _download(request, records, q: ExportQuery):
    artifact = exports.export(request.access.organisation, records, what=q.what, fmt=q.format)
    return FileResponse(artifacts.consume(artifact), as_attachment=True, filename=exports.filename(q.what, q.format),
                        content_type=exports.CONTENT_TYPES[q.format])


EXPORT_DOC = {"responses": {200: {"description": "The file", "content": {
    media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}} for media in exports.CONTENT_TYPES.values()}}}}


@router.get(BASE + "/emission-export", response=ERRORS, openapi_extra=EXPORT_DOC)
@requires("records.view")
def project_export(request, org: str, project_id: uuid.UUID, q: Query[ExportQuery]):
    """Records (with kgCO2e and factor) or totals of what the filters show, as CSV or XLSX; made as an
    encrypted, audited export artifact and deleted as it is handed over."""
    records = filtered(EmissionRecord.objects.filter(project=request.access.project), **_filters(q))
    shown(request.access, "export", "project", [request.access.project])
    return _download(request, records, q)


@router.get("/orgs/{org}/workspaces/{workspace_id}/emission-export", response=ERRORS, openapi_extra=EXPORT_DOC)
@requires("records.view")
def workspace_export(request, org: str, workspace_id: uuid.UUID, q: Query[ExportQuery]):
    shown(request.access, "export", "workspace", [request.access.workspace])
    records = filtered(EmissionRecord.objects.filter(project__workspace=request.access.workspace), **_filters(q))
    return _download(request, records, q)
