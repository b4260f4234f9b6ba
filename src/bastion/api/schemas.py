"""Request and response bodies of the API."""


import datetime
import types
import uuid
from decimal import Decimal
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator

from bastion.api.pagination import MAX_PAGE_SIZE, Page


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here as a field error rather than fail at the database.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]


def _iso_only(value: Any) -> Any:
    # pydantic also reads a number as a Unix timestamp; the contract says an ISO 8601 string.
    if isinstance(value, int | float | Decimal) or (isinstance(value, str) and _is_number(value)):
        raise ValueError("must be an ISO 8601 date or date-time, not a number")
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


IsoDateTime = Annotated[datetime.datetime, BeforeValidator(_iso_only)]
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_only)]


def omittable(**constraints: Any) -> Any:
    """A field a request may leave out (it then reads None, and ``exclude_unset`` drops it) but not set to
    null: pydantic does not validate a default, and does validate an explicit null. Typed ``Any`` so the
    field keeps, for the type checker, the type it holds whenever it is given."""
    return Field(None, **constraints)


class PageQuery(Schema):
    page: int = Field(1, ge=1, le=1_000_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class OrganisationIn(Schema):
    name: Text = Field(..., min_length=1, max_length=200)
    slug: Text = Field(..., min_length=1, max_length=50, description="lowercase letters, digits, hyphens; used in URLs")


# Patch bodies: a field may be left out, but not set to null unless the column is nullable
# (pydantic does not validate the None default, and does validate an explicit null).


class OrganisationPatch(Schema):
    name: Text = omittable(min_length=1, max_length=200)
    mfa_required: bool = omittable(description="every member must use a second factor at their next sign-in")


class OrganisationOut(Schema):
    id: uuid.UUID
    slug: str
    name: str
    mfa_required: bool
    created_at: datetime.datetime


class WorkspaceIn(Schema):
    name: Text = Field(..., min_length=1, max_length=200)
    description: Text = Field("", max_length=2000)


class WorkspacePatch(Schema):
    name: Text = omittable(min_length=1, max_length=200)
    description: Text = omittable(max_length=2000)


class WorkspaceOut(Schema):
    id: uuid.UUID
    name: str
    description: str
    created_at: datetime.datetime


class ProjectIn(Schema):
    name: Text = Field(..., min_length=1, max_length=200)
    description: Text = Field("", max_length=2000)


class ProjectPatch(Schema):
    name: Text = omittable(min_length=1, max_length=200)
    description: Text = omittable(max_length=2000)


class ProjectOut(Schema):
    id: uuid.UUID
    workspace_id: uuid.UUID
    name: str
    description: str
    created_at: datetime.datetime


class MemberIn(Schema):
    email: Text = Field(..., min_length=3, max_length=254)
    role: Text = Field(..., description="owner, admin, editor, viewer, or custom:<role id>")
    workspace_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None


class MemberPatch(Schema):
    role: Text


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


class MemberInvited(Schema):
    """The answer to add-member: the same whether or not the address has an account."""

    status: str = Field(..., description="invited (an email went out), or added (an account on a verified SSO domain)")
    email: str


class InvitationOut(Schema):
    id: uuid.UUID
    email: str
    role: str
    scope: str
    workspace_id: uuid.UUID | None
    project_id: uuid.UUID | None
    invited_by: str | None
    created_at: datetime.datetime
    expires_at: datetime.datetime


class RoleIn(Schema):
    name: Text = Field(..., min_length=1, max_length=100)
    description: Text = Field("", max_length=500)
    permissions: list[str]


class RolePatch(Schema):
    name: Text = omittable(min_length=1, max_length=100)
    description: Text = omittable(max_length=500)
    permissions: list[str] = omittable()


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
    name: Text = Field(..., min_length=1, max_length=200)
    country: Text = Field("", max_length=2)
    contact_name: Text = Field("", max_length=200)
    contact_email: Text = Field("", max_length=254)
    contract_value: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    notes: Text = Field("", max_length=5000)


class SupplierPatch(Schema):
    name: Text = omittable(min_length=1, max_length=200)
    country: Text = omittable(max_length=2)
    contact_name: Text = omittable(max_length=200)
    contact_email: Text = omittable(max_length=254)
    contract_value: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    notes: Text = omittable(max_length=5000)


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
    category: Text
    activity: Text = Field(..., min_length=1, max_length=300)
    quantity: Decimal = Field(..., ge=0, max_digits=24, decimal_places=6)
    unit: Text
    period_start: datetime.date
    period_end: datetime.date
    site: Text = Field("", max_length=200)
    supplier_id: uuid.UUID | None = None
    notes: Text = Field("", max_length=5000)


class EmissionPatch(Schema):
    scope: int = omittable(ge=1, le=3)
    category: Text = omittable()
    activity: Text = omittable(min_length=1, max_length=300)
    quantity: Decimal = omittable(ge=0, max_digits=24, decimal_places=6)
    unit: Text = omittable()
    period_start: datetime.date = omittable()
    period_end: datetime.date = omittable()
    site: Text = omittable(max_length=200)
    supplier_id: uuid.UUID | None = None
    notes: Text = omittable(max_length=5000)


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
    meter: Text = Field(..., min_length=1, max_length=100)
    site: Text = Field(..., min_length=1, max_length=200)
    kwh: Decimal = Field(..., ge=0, max_digits=24, decimal_places=3)
    source: Text
    period_start: datetime.date
    period_end: datetime.date
    notes: Text = Field("", max_length=5000)


class EnergyPatch(Schema):
    meter: Text = omittable(min_length=1, max_length=100)
    site: Text = omittable(min_length=1, max_length=200)
    kwh: Decimal = omittable(ge=0, max_digits=24, decimal_places=3)
    source: Text = omittable()
    period_start: datetime.date = omittable()
    period_end: datetime.date = omittable()
    notes: Text = omittable(max_length=5000)


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
    items = types.GenericAlias(list, (item_schema,))  # list[item_schema], built from a class known at run time
    return type(f"{item_schema.__name__}Page", (Page,), {"__annotations__": {"items": items}})
