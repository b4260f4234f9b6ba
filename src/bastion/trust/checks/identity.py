"""Identity: MFA for every owner and admin, SSO and SCIM state per organisation."""

from __future__ import annotations

import uuid

from allauth.mfa.models import Authenticator
from django.db import transaction

from bastion.identity.models import ScimToken
from bastion.identity.sso.models import SSOConnection
from bastion.tenancy import context
from bastion.tenancy.models import Membership
from bastion.tenancy.organisations import slugs_by_id
from bastion.trust.checks import Outcome, check, failed, passed

_PRIVILEGED = ("owner", "admin")


@check("identity.mfa_privileged", "Every owner and admin has an authenticator (TOTP or WebAuthn)")
def mfa_privileged() -> Outcome:
    privileged: dict[int, str] = {}
    for organisation_id, slug in slugs_by_id().items():
        with context.tenant_context(uuid.UUID(organisation_id)), transaction.atomic():
            for user_id in Membership.objects.filter(builtin_role__in=_PRIVILEGED).values_list("user_id", flat=True):
                privileged[user_id] = slug
    with_factor = set(Authenticator.objects.filter(user_id__in=privileged).exclude(
        type=Authenticator.Type.RECOVERY_CODES).values_list("user_id", flat=True))
    missing = sorted(user_id for user_id in privileged if user_id not in with_factor)
    evidence = {"privileged_users": len(privileged), "without_authenticator": missing}
    if missing:
        return failed(f"{len(missing)} of {len(privileged)} owners and admins have no authenticator", **evidence)
    return passed(f"all {len(privileged)} owners and admins have an authenticator", **evidence)


@check("identity.sso_scim_state", "SSO and SCIM state of every organisation is recorded")
def sso_scim_state() -> Outcome:
    states = {}
    for organisation_id, slug in slugs_by_id().items():
        with context.tenant_context(uuid.UUID(organisation_id)), transaction.atomic():
            states[slug] = {"sso": SSOConnection.objects.filter(enabled=True).exists(),
                            "scim": ScimToken.objects.filter(revoked_at=None).exists()}
    on = sum(1 for state in states.values() if state["sso"])
    return passed(f"{on} of {len(states)} organisations sign in with SSO", organisations=states)
