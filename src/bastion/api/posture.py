"""An organisation's security posture for its vendor-risk tooling: SSO and SCIM, MFA coverage, key
ages, audit verification and anchoring, the last restore drill, open staff grants, retention and
read-log settings. ``POST …/posture/run`` re-runs the checks that have the organisation's own answer
(its audit chain and read-access log verified afresh, MFA coverage of its owners and admins, its key
age), quotes the platform-wide ones from their last run, and returns it all signed with the platform
key (Ed25519 over the canonical JSON; the key id names the public key audit checkpoints verify with)."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.utils import timezone

from bastion.access_log import configuration, recording
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
from bastion.trust import runs

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


def _scoped_checks(document: dict[str, Any], read_log: Any) -> list[dict[str, Any]]:
    """The trust checks that have an organisation's own answer, re-run for it now (the platform-wide
    ones, such as backups, are the last run's results, named as such)."""
    def result(check: str, ok: bool | None, details: str) -> dict[str, Any]:
        return {"check": check, "result": "unknown" if ok is None else ("pass" if ok else "fail"), "details": details}

    mfa, keys, fresh = document["mfa"], document["keys"], document["audit"]["verification_now"]
    checks = [
        result("identity.mfa_privileged", mfa["all_admins_covered"],
               f"{mfa['admins_without_second_factor']} of {mfa['admins']} owners and admins without a second factor"),
        result("keys.age_within_policy", keys["within_policy"] if keys["current_version"] else None,
               f"current data key v{keys['current_version']}, {keys['current_key_age_days']} days old "
               f"(at most {keys['max_age_days']})"),
        result("audit.chain_verified_now", fresh["ok"], fresh["message"] or f"{fresh['events']} events verified"),
        result("access_log.chain_verified_now", read_log.ok,
               read_log.message or f"{read_log.batches} read-access batches verified"),
    ]
    latest = runs.latest_results()
    for platform_check in ("backups.recent_and_drilled", "hardening.headers", "hardening.tls_handshake",
                           "database.rls_forced", "privacy.retention_ran"):
        found = latest.get(platform_check)
        checks.append({"check": platform_check, "result": found.result if found else "unknown",
                       "details": found.details if found else "not run yet on this deployment",
                       "platform_run": str(found.run_id) if found else None,
                       "checked_at": _moment(found.checked_at) if found else None})
    return checks


@router.post("/orgs/{org}/posture/run")
@requires("organisation.manage")
def run_posture(request, org: str):
    """Re-run the organisation's checks now (its audit chain and read-access log verified afresh, MFA
    coverage and key age re-read), and return the posture with each result, signed with the platform key."""
    organisation = request.access.organisation
    report = verify_chain(str(organisation.id))
    fresh = {"ok": report.ok, "events": report.events, "checkpoints": report.checkpoints,
             "first_bad_seq": report.first_bad_seq, "message": report.message}
    read_log = recording.check(organisation.id)
    document = posture(organisation, fresh=fresh)
    document["checks"] = _scoped_checks(document, read_log)
    document["read_log"]["verification_now"] = {"ok": read_log.ok, "batches": read_log.batches,
                                                "first_bad_seq": read_log.first_bad_seq, "message": read_log.message}
    return {"posture": document, "key_id": signing.current_key_id(),
            "signature": signing.sign(audit_format.canonical(document)), "algorithm": "ed25519"}
