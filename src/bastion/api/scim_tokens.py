"""The organisation's SCIM token: make one (shown once; the previous one is revoked) or revoke it."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime

from ninja import Field, Schema, Status

from bastion.api.routing import AuthorizingRouter
from bastion.identity.mfa import step_up
from bastion.identity.scim import tokens
from bastion.tenancy.access import Forbidden, NotFound, requires

router = AuthorizingRouter(tags=["scim"])


class ScimTokenOut(Schema):
    token: str = Field(..., description="shown this once: give it to the identity provider now")
    preview: str
    base_url: str = Field(..., description="the SCIM base URL to give the identity provider")
    created_at: datetime.datetime


@router.post("/orgs/{org}/scim-token", response={201: ScimTokenOut})
@requires("members.manage")
def create_scim_token(request, org: str):
    if not request.user.is_authenticated:
        raise Forbidden()  # made by people, not by API keys: the token acts with its maker's powers
    step_up.require(request)
    token, secret = tokens.create(request.access.organisation, creator=request.user)
    return Status(201, {"token": secret, "preview": f"bst_{token.public_id}_…",
                        "base_url": request.build_absolute_uri("/scim/v2/"), "created_at": token.created_at})


@router.delete("/orgs/{org}/scim-token", response={204: None})
@requires("members.manage")
def revoke_scim_token(request, org: str):
    if not tokens.revoke(request.access.organisation):
        raise NotFound()
    return Status(204, None)
