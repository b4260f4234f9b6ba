"""An organisation's security posture for its vendor-risk tooling: SSO and SCIM, MFA coverage, key
ages, audit verification and anchoring, the last restore drill, open staff grants, retention and
read-log settings. ``POST …/posture/run`` re-checks what can be checked now (the audit chain is
verified afresh) and returns the document signed with the platform key (Ed25519 over its canonical
JSON, the key id names the public key the audit checkpoints are verified with)."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.utils import timezone

from bastion.access_log import configuration
from bastion.api.routing import AuthorizingRouter
from bastion.audit import format as audit_format
from bastion.audit import signing
from bastion.audit.models import ChainHead, VerificationResult
from bastion.audit.verification import verify_chain
from bastion.backups import status as backup_status
from bastion.crypto.key_models import CustomerKey, DataKey
from bastion.identity.models import ScimToken
from bastion.identity.sso.models import SSOConnection
from bastion.privacy.models import RetentionPolicy
from bastion.support_access.models import AccessRequest
from bastion.tenancy.access import requires
from bastion.tenancy.models import Membership

router = AuthorizingRouter(tags=["posture"])

ADMIN_ROLES = ("owner", "admin")
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def _moment(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _mfa(organisation) -> dict[str, Any]:
    memberships = Membership.objects.filter(organisation=organisation)
    members = set(memberships.values_list("user_id", flat=True))
    admins = set(memberships.filter(builtin_role__in=ADMIN_ROLES).values_list("user_id", flat=True))
    covered = set(Authenticator.objects.filter(user_id__in=members, type__in=SECOND_FACTORS)
                  .values_list("user_id", flat=True))
    return {"required": organisation.mfa_required, "members": len(members),
            "members_with_second_factor": len(members & covered), "admins": len(admins),
            "admins_without_second_factor": len(admins - covered), "all_admins_covered": admins <= covered}


def _keys(organisation) -> dict[str, Any]:
    newest = DataKey.objects.filter(organisation_id=organisation.id, retired_at__isnull=True).order_by("-created_at").first()
    age = (timezone.now() - newest.created_at).days if newest else None
    own = CustomerKey.objects.filter(organisation_id=organisation.id).exclude(key_arn="").first()
    return {"provider": settings.BASTION_KMS, "customer_key": own.key_arn if own else None,
            "current_version": newest.version if newest else None,
            "current_key_age_days": age, "max_age_days": settings.BASTION_KEY_MAX_AGE_DAYS,
            "within_policy": age is not None and age <= settings.BASTION_KEY_MAX_AGE_DAYS}


def _audit(organisation, fresh: dict[str, Any] | None) -> dict[str, Any]:
    chain = str(organisation.id)
    last = VerificationResult.objects.filter(chain_id=chain).order_by("-finished_at").first()
    head = ChainHead.objects.filter(chain_id=chain).first()
    found: dict[str, Any] = {"last_verification_at": _moment(last.finished_at) if last else None,
             "last_verification_ok": last.ok if last else None,
             "events": head.seq if head else 0,
             "checkpointed_size": head.checkpointed_size if head else 0,
             "anchored_size": head.anchored_size if head else 0}
    if fresh is not None:
        found["verification_now"] = fresh
    return found


def _staff_grants(organisation) -> dict[str, Any]:
    now = timezone.now()
    open_grants = AccessRequest.objects.filter(organisation_id=organisation.id, state="approved",
                                               revoked_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
    return {"open": open_grants.count(),
            "grants": [{"id": str(g.id), "mode": g.mode, "ends_at": _moment(g.ends_at), "break_glass": g.break_glass}
                       for g in open_grants.order_by("ends_at")[:50]]}


def posture(organisation, *, fresh: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "organisation": organisation.slug,
        "generated_at": timezone.now().isoformat(),
        "sso": {"enabled": SSOConnection.objects.filter(organisation=organisation, enabled=True).exists()},
        "scim": {"enabled": ScimToken.objects.filter(organisation=organisation, revoked_at__isnull=True).exists()},
        "mfa": _mfa(organisation),
        "keys": _keys(organisation),
        "audit": _audit(organisation, fresh),
        "backups": backup_status.latest().as_dict(),
        "staff_grants": _staff_grants(organisation),
        "retention": {p.data_class: p.days for p in RetentionPolicy.objects.filter(organisation_id=organisation.id)},
        "read_log": configuration.as_dict(configuration.current(organisation.id)),
        "region": settings.BASTION_REGION or None,
    }


@router.get("/orgs/{org}/posture")
@requires("organisation.manage")
def get_posture(request, org: str):
    """The organisation's posture, from what is stored (the last verification, the last drill)."""
    return posture(request.access.organisation)


@router.post("/orgs/{org}/posture/run")
@requires("organisation.manage")
def run_posture(request, org: str):
    """Verify the organisation's audit chain now, and return the posture signed with the platform key."""
    organisation = request.access.organisation
    report = verify_chain(str(organisation.id))
    fresh = {"ok": report.ok, "events": report.events, "checkpoints": report.checkpoints,
             "first_bad_seq": report.first_bad_seq, "message": report.message}
    document = posture(organisation, fresh=fresh)
    return {"posture": document, "key_id": signing.current_key_id(),
            "signature": signing.sign(audit_format.canonical(document)), "algorithm": "ed25519"}
