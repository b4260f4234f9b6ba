"""The credentials vault: store a third-party credential, list and read it (preview only),
rotate it, delete it. No response ever carries the secret or the refresh token."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid
from typing import Literal

from ninja import Field, Query, Schema, Status

from bastion.access_log.recording import shown
from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import IsoDateTime, PageQuery, Text, page_of
from bastion.crypto.models import Credential
from bastion.tenancy import credentials
from bastion.tenancy.access import requires

router = AuthorizingRouter(tags=["credentials vault"])

Secret = Field(..., min_length=1, max_length=16384)


class CredentialIn(Schema):
    name: Text = Field(..., min_length=1, max_length=100)
    service: Text = Field(..., min_length=1, max_length=50, description="the third-party system, e.g. github")
    kind: Literal["oauth", "api_key", "password"]
    secret: Text = Secret
    refresh_token: Text | None = Field(None, min_length=1, max_length=16384)
    expires_at: IsoDateTime | None = None


class CredentialRotateIn(Schema):
    secret: Text = Secret
    refresh_token: Text | None = Field(None, min_length=1, max_length=16384)
    expires_at: IsoDateTime | None = None


class CredentialOut(Schema):
    id: uuid.UUID
    name: str
    service: str
    kind: str
    preview: str = Field(..., description="at most the last four characters; the secret itself is never returned")
    has_refresh_token: bool
    expires_at: datetime.datetime | None
    version: int
    created_by: str
    created_at: datetime.datetime
    rotated_at: datetime.datetime | None
    last_used_at: datetime.datetime | None
    last_used_by: str


def credential_out(credential: Credential) -> dict:
    # Built field by field, never from the model, so that the secret cannot slip into a response.
    return {"id": credential.id, "name": credential.name, "service": credential.service, "kind": credential.kind,
            "preview": credential.preview, "has_refresh_token": credential.refresh_token is not None,
            "expires_at": credential.expires_at, "version": credential.version,
            "created_by": credential.created_by_label, "created_at": credential.created_at,
            "rotated_at": credential.rotated_at, "last_used_at": credential.last_used_at,
            "last_used_by": credential.last_used_by}


@router.get("/orgs/{org}/credentials", response=page_of(CredentialOut))
@requires("credentials.manage")
def list_credentials(request, org: str, q: Query[PageQuery]):
    page = paginate(Credential.objects.filter(organisation_id=request.access.organisation.id), q.page, q.page_size)
    shown(request.access, "credential_preview", "credential", page["items"])
    page["items"] = [credential_out(c) for c in page["items"]]
    return page


@router.post("/orgs/{org}/credentials", response={201: CredentialOut})
@requires("credentials.manage")
def store_credential(request, org: str, payload: CredentialIn):
    return Status(201, credential_out(credentials.store(request.access.organisation, **payload.dict())))


@router.get("/orgs/{org}/credentials/{credential_id}", response=CredentialOut)
@requires("credentials.manage")
def get_credential(request, org: str, credential_id: uuid.UUID):
    shown(request.access, "credential_preview", "credential", [request.path_objects["credential_id"]])
    return credential_out(request.path_objects["credential_id"])


@router.post("/orgs/{org}/credentials/{credential_id}/rotate", response=CredentialOut)
@requires("credentials.manage")
def rotate_credential(request, org: str, credential_id: uuid.UUID, payload: CredentialRotateIn):
    return credential_out(credentials.rotate(request.path_objects["credential_id"], **payload.dict()))


@router.delete("/orgs/{org}/credentials/{credential_id}", response={204: None})
@requires("credentials.manage")
def delete_credential(request, org: str, credential_id: uuid.UUID):
    credentials.delete(request.path_objects["credential_id"])
    return Status(204, None)
