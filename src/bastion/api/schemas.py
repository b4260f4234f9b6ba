"""Request and response bodies of the API."""


import datetime
import uuid
from decimal import Decimal

from ninja import Field, Schema

from bastion.api.pagination import MAX_PAGE_SIZE, Page


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class OrganisationIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    slug: str = Field(..., min_length=1, max_length=50, description="lowercase letters, digits, hyphens; used in URLs")


# Patch bodies: a field may be left out, but not set to null unless the column is nullable
# (pydantic does not validate the None default, and does validate an explicit null).


class OrganisationPatch(Schema):
    name: str = Field(..., min_length=1, max_length=200)


class OrganisationOut(Schema):
    id: uuid.UUID
    slug: str
    name: str
    created_at: datetime.datetime


class WorkspaceIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class WorkspacePatch(Schema):
    name: str = Field(None, min_length=1, max_length=200)
    description: str = Field(None, max_length=2000)


class WorkspaceOut(Schema):
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime.datetime


class ProjectIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=2000)


class ProjectPatch(Schema):
    name: str = Field(None, min_length=1, max_length=200)
    description: str = Field(None, max_length=2000)


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
    name: str = Field(None, min_length=1, max_length=100)
    description: str = Field(None, max_length=500)
    permissions: list[str] = Field(None)


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
    name: str = Field(None, min_length=1, max_length=200)
    country: str = Field(None, max_length=2)
    contact_name: str = Field(None, max_length=200)
    contact_email: str = Field(None, max_length=254)
    contract_value: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    notes: str = Field(None, max_length=5000)


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
    scope: int = Field(None, ge=1, le=3)
    category: str = Field(None)
    activity: str = Field(None, min_length=1, max_length=300)
    quantity: Decimal = Field(None, ge=0, max_digits=24, decimal_places=6)
    unit: str = Field(None)
    period_start: datetime.date = Field(None)
    period_end: datetime.date = Field(None)
    site: str = Field(None, max_length=200)
    supplier_id: uuid.UUID | None = None
    notes: str = Field(None, max_length=5000)


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
    meter: str = Field(None, min_length=1, max_length=100)
    site: str = Field(None, min_length=1, max_length=200)
    kwh: Decimal = Field(None, ge=0, max_digits=24, decimal_places=3)
    source: str = Field(None)
    period_start: datetime.date = Field(None)
    period_end: datetime.date = Field(None)
    notes: str = Field(None, max_length=5000)


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
