"""An organisation's SCIM token: made (revoking the one before), revoked, and checked on each request.

The token is an API-key token (``bastion.crypto.api_keys``): shown once, stored as a keyed hash,
recognisable when leaked. It acts with the powers of the member who made it: if they no longer
manage members of the organisation, or their account is disabled, it stops working, and it never changes the membership of
someone whose role holds more than theirs. A token made by an operator at the command line
(``bastion manage scim_token``) has no such member and no such limit.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.crypto import api_keys
from bastion.identity.models import ScimToken
from bastion.identity.scim.audit_actions import SCIM_TOKEN_CREATED, SCIM_TOKEN_REVOKED
from bastion.tenancy import context
from bastion.tenancy.models import Membership, Organisation

TOUCH_INTERVAL_SECONDS = 60
MANAGE = "members.manage"


@dataclass(frozen=True)
class ScimPrincipal:
    """Who provisions: an organisation's token, and the grants of the member who made it (``None``
    for an operator's token)."""

    token: ScimToken
    organisation: Organisation
    grantor_grants: list[Membership] | None


def _preview(token: ScimToken) -> str:
    return f"bst_{token.public_id}_…"


def _revoke(token: ScimToken) -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit.record(SCIM_TOKEN_REVOKED, organisation_id=token.organisation_id, resource_type="scim_token",
                 resource_id=token.id, changes={"preview": _preview(token)})


def create(organisation: Organisation, *, creator=None) -> tuple[ScimToken, str]:
    """A new token for ``organisation`` (in its tenant context) and its secret, returned this once."""
    new = api_keys.generate()
    with transaction.atomic():
        for old in ScimToken.objects.filter(organisation_id=organisation.id, revoked_at__isnull=True):
            _revoke(old)
        token = ScimToken.objects.create(organisation=organisation, public_id=new.public_id,
                                         secret_hash=new.secret_hash, created_by=creator)
        audit.record(SCIM_TOKEN_CREATED, organisation_id=organisation.id, resource_type="scim_token",
                     resource_id=token.id, changes={"preview": _preview(token),
                                                    "created_by": creator.get_username() if creator else "operator"})
    return token, new.token


def revoke(organisation: Organisation) -> bool:
    """Revoke the organisation's live token; whether there was one."""
    with transaction.atomic():
        live = list(ScimToken.objects.filter(organisation_id=organisation.id, revoked_at__isnull=True))
        for token in live:
            _revoke(token)
    return bool(live)


def authenticate(presented: str) -> ScimPrincipal | None:
    """The principal of a live token, with its organisation's tenant context active; else None."""
    token = api_keys.find(presented, ScimToken.all_tenants, visible_by="bastion.scim_token_id")
    if token is None or token.revoked_at is not None:
        return None
    context.activate(token.organisation_id)
    organisation = Organisation.objects.get(id=token.organisation_id)
    grants = None
    if token.created_by_id is not None:
        grants = list(Membership.objects.filter(user_id=token.created_by_id, user__is_active=True,
                                                workspace__isnull=True, project__isnull=True)
                      .select_related("custom_role"))
        if not grants or MANAGE not in grants[0].permissions():
            context.clear()
            return None
    _touch(token)
    return ScimPrincipal(token=token, organisation=organisation, grantor_grants=grants)


def _touch(token: ScimToken) -> None:
    """Record last use, at most once a minute, so that reads do not all become writes."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=TOUCH_INTERVAL_SECONDS)
    ScimToken.objects.filter(id=token.id).exclude(last_used_at__gt=cutoff).update(last_used_at=now)
