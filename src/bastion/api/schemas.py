"""Request and response bodies of the API."""


import datetime
import uuid
from decimal import Decimal

from ninja import Field, Schema

from bastion.api.pagination import MAX_PAGE_SIZE, Page


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class OrganisationOut(Schema):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime.datetime


class WorkspaceIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class WorkspacePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class WorkspaceOut(Schema):
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime.datetime


class ProjectIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class ProjectPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)


class ProjectOut(Schema):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str
    created_at: datetime.datetime


class MemberIn(Schema):
    email: str = Field(..., min_length=3, max_length=254)
    role: str = Field(..., description="owner, admin, editor, viewer, or custom:<role id>")
    workspace_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None


class MemberPatch(Schema):
    role: str


class MemberOut(Schema):
    id: uuid.UUID
    user_id: int
    email: str
    name: str
    scope: str
    workspace_id: uuid.UUID | None
    project_id: uuid.UUID | None
    role: str
    role_name: str


class RoleIn(Schema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=500)
    permissions: list[str]


class RolePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=500)
    permissions: list[str] | None = None


class RoleOut(Schema):
    id: str
    name: str
    description: str
    permissions: list[str]
    builtin: bool


class PermissionOut(Schema):
    name: str
    description: str


class SupplierIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    country: str = Field("", max_length=2)
    contact_name: str = Field("", max_length=200)
    contact_email: str = Field("", max_length=254)
    contract_value: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    notes: str = Field("", max_length=5000)


class SupplierPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    country: str | None = Field(None, max_length=2)
    contact_name: str | None = Field(None, max_length=200)
    contact_email: str | None = Field(None, max_length=254)
    contract_value: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    notes: str | None = Field(None, max_length=5000)


class SupplierOut(Schema):
    id: uuid.UUID
    name: str
    country: str
    contact_name: str
    contact_email: str
    contract_value: Decimal | None
    notes: str
    created_at: datetime.datetime


class EmissionIn(Schema):
    scope: int = Field(..., ge=1, le=3)
    category: str
    activity: str = Field(..., min_length=1, max_length=300)
    quantity: Decimal = Field(..., ge=0, max_digits=24, decimal_places=6)
    unit: str
    period_start: datetime.date
    period_end: datetime.date
    site: str = Field("", max_length=200)
    supplier_id: uuid.UUID | None = None
    notes: str = Field("", max_length=5000)


class EmissionPatch(Schema):
    scope: int | None = Field(None, ge=1, le=3)
    category: str | None = None
    activity: str | None = Field(None, min_length=1, max_length=300)
    quantity: Decimal | None = Field(None, ge=0, max_digits=24, decimal_places=6)
    unit: str | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    site: str | None = Field(None, max_length=200)
    supplier_id: uuid.UUID | None = None
    notes: str | None = Field(None, max_length=5000)


class EmissionOut(Schema):
    id: uuid.UUID
    project_id: uuid.UUID
    scope: int
    category: str
    activity: str
    quantity: Decimal
    unit: str
    period_start: datetime.date
    period_end: datetime.date
    site: str
    supplier_id: uuid.UUID | None
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EnergyIn(Schema):
    meter: str = Field(..., min_length=1, max_length=100)
    site: str = Field(..., min_length=1, max_length=200)
    kwh: Decimal = Field(..., ge=0, max_digits=24, decimal_places=3)
    source: str
    period_start: datetime.date
    period_end: datetime.date
    notes: str = Field("", max_length=5000)


class EnergyPatch(Schema):
    meter: str | None = Field(None, min_length=1, max_length=100)
    site: str | None = Field(None, min_length=1, max_length=200)
    kwh: Decimal | None = Field(None, ge=0, max_digits=24, decimal_places=3)
    source: str | None = None
    period_start: datetime.date | None = None
    period_end: datetime.date | None = None
    notes: str | None = Field(None, max_length=5000)


class EnergyOut(Schema):
    id: uuid.UUID
    project_id: uuid.UUID
    meter: str
    site: str
    kwh: Decimal
    source: str
    period_start: datetime.date
    period_end: datetime.date
    notes: str
    created_at: datetime.datetime
    updated_at: datetime.datetime


class EvidenceOut(Schema):
    id: uuid.UUID
    project_id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    emission_record_id: uuid.UUID | None
    energy_record_id: uuid.UUID | None
    created_at: datetime.datetime


class ImportRowError(Schema):
    row: int
    field: str
    code: str
    message: str


class ImportOut(Schema):
    kind: str
    rows: int
    created: int
    errors: list[ImportRowError]


def page_of(item_schema: type[Schema]) -> type[Schema]:
    return type(f"{item_schema.__name__}Page", (Page,), {"__annotations__": {"items": list[item_schema]}})
