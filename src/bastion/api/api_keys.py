"""The organisation's API keys: create (the token is shown once), list with previews, revoke."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid

from ninja import Field, Query, Schema, Status

from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import PageQuery, Text, page_of
from bastion.crypto.models import ApiKey
from bastion.identity.mfa import step_up
from bastion.tenancy import api_keys
from bastion.tenancy.access import Forbidden, requires

router = AuthorizingRouter(tags=["api keys"])


class ApiKeyIn(Schema):
    name: Text = Field(..., min_length=1, max_length=100)
    scopes: list[Text] = Field(..., description="named permissions, e.g. records.view")
    expires_in_days: int = Field(90, ge=1, le=api_keys.MAX_LIFETIME_DAYS)


class ApiKeyOut(Schema):
    id: uuid.UUID
    name: str
    preview: str
    scopes: list[str]
    created_by: str
    created_at: datetime.datetime
    expires_at: datetime.datetime
    last_used_at: datetime.datetime | None
    last_used_ip: str
    revoked_at: datetime.datetime | None


class NewApiKeyOut(ApiKeyOut):
    token: str = Field(..., description="shown this once: store it now")


def key_out(key: ApiKey, **extra) -> dict:
    return {"id": key.id, "name": key.name, "preview": key.preview, "scopes": key.scopes,
            "created_by": key.created_by_label, "created_at": key.created_at, "expires_at": key.expires_at,
            "last_used_at": key.last_used_at, "last_used_ip": key.last_used_ip, "revoked_at": key.revoked_at, **extra}


@router.get("/orgs/{org}/api-keys", response=page_of(ApiKeyOut))
@requires("apikeys.manage")
def list_api_keys(request, org: str, q: Query[PageQuery]):
    keys = ApiKey.objects.filter(organisation_id=request.access.organisation.id)
    page = paginate(keys, q.page, q.page_size)
    page["items"] = [key_out(k) for k in page["items"]]
    return page


@router.post("/orgs/{org}/api-keys", response={201: NewApiKeyOut})
@requires("apikeys.manage")
def create_api_key(request, org: str, payload: ApiKeyIn):
    if not request.user.is_authenticated:
        raise Forbidden()  # keys are made by people, not by other keys
    step_up.require(request)
    key, token = api_keys.create(request.access.organisation, name=payload.name, scopes=payload.scopes,
                                 expires_in_days=payload.expires_in_days, creator=request.user,
                                 creator_grants=request.access.grants)
    return Status(201, key_out(key, token=token))


@router.delete("/orgs/{org}/api-keys/{api_key_id}", response={204: None})
@requires("apikeys.manage")
def revoke_api_key(request, org: str, api_key_id: uuid.UUID):
    api_keys.revoke(request.path_objects["api_key_id"])
    return Status(204, None)
