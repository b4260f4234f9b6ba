"""Who must use a second factor, and holding them to it on every request.

MFA is required of a user who holds an admin-grade role in any organisation (owners, admins, and
any custom role with an organisation-wide permission that is not read-only: see
``tenancy.permissions.requires_mfa``), of the built-in roles named in ``BASTION_MFA_REQUIRED_ROLES``,
and of every member of an organisation whose admins switched on "MFA required". Such a user
without a second factor is confined to enrolling one: every other page redirects to it, and the
JSON API answers 403 ``mfa_enrolment_required``, until they have.

The requirement follows the user's *current* roles on every request, not the roles they had at
sign-in: a viewer promoted to admin, or a user who founds an organisation, is confined at their
very next request. To keep that cheap, the answer is cached in the session under the user's
``access_version``, which every change of memberships, roles, MFA policy or second factors bumps
in its own transaction (``tenancy.signals.access_changed`` and the authenticator signals).
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.http import JsonResponse
from django.shortcuts import redirect

from bastion.identity.models import STAFF_ROLES_NEEDING_SECURITY_KEY
from bastion.tenancy import context
from bastion.tenancy.models import Membership, Organisation
from bastion.tenancy.permissions import requires_mfa

SESSION_KEY = "bastion_mfa_policy"  # [access_version, must enrol]
# Where a user who must enrol may still go: the MFA pages (and what they need), and signing out.
ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/", "/static/")


def mfa_required_for(user) -> bool:
    if getattr(user, "staff_role", ""):
        return True  # platform staff always, whatever (no) organisation they are in
    context.bind_user(user.pk)
    organisation_ids = set(Membership.all_tenants.filter(user_id=user.pk).values_list("organisation_id", flat=True))
    for organisation_id in organisation_ids:
        with context.tenant_context(organisation_id):
            if Organisation.objects.filter(id=organisation_id, mfa_required=True).exists():
                return True
            grant = Membership.objects.filter(user_id=user.pk, workspace=None, project=None).select_related(
                "custom_role").first()
            if grant is not None and (grant.builtin_role in settings.BASTION_MFA_REQUIRED_ROLES
                                      or requires_mfa(grant.permissions())):
                return True
    return False


def has_second_factor(user) -> bool:
    """Whether ``user`` has a second factor of the kind they need: for the staff roles in
    ``STAFF_ROLES_NEEDING_SECURITY_KEY`` only a security key or passkey (WebAuthn) counts."""
    factors = Authenticator.objects.filter(user_id=user.pk)
    if getattr(user, "staff_role", "") in STAFF_ROLES_NEEDING_SECURITY_KEY:
        return factors.filter(type=Authenticator.Type.WEBAUTHN).exists()
    return factors.exclude(type=Authenticator.Type.RECOVERY_CODES).exists()


def session_second_factor_suffices(request, user) -> bool:
    """Whether this session was signed in with the kind of second factor ``user`` needs (platform
    staff: any for support, a security key or passkey for security and operator)."""
    from allauth.account.internal.flows.login import get_authentication_records

    records = [r for r in get_authentication_records(request, user) if r.get("method") == "mfa"]
    if getattr(user, "staff_role", "") in STAFF_ROLES_NEEDING_SECURITY_KEY:
        return any(r.get("type") == Authenticator.Type.WEBAUTHN for r in records)
    return bool(records)


def must_enrol(request) -> bool:
    """Whether the signed-in user must set up a second factor before anything else (cached per
    session for as long as their ``access_version`` stays the same)."""
    user = request.user
    cached = request.session.get(SESSION_KEY)
    if isinstance(cached, list) and len(cached) == 2 and cached[0] == user.access_version:
        return bool(cached[1])
    with transaction.atomic():  # the memberships are read under row-level security, set per transaction
        answer = not has_second_factor(user) and mfa_required_for(user)
    request.session[SESSION_KEY] = [user.access_version, answer]
    return answer


def on_sign_in(request, user) -> None:
    request.session.pop(SESSION_KEY, None)


def access_changed(sender, user_ids, **kwargs) -> None:
    """Receiver of ``tenancy.signals.access_changed``: sessions recompute these users' policy."""
    if user_ids:
        get_user_model().objects.filter(pk__in=list(user_ids)).update(access_version=F("access_version") + 1)


def authenticator_changed(sender, instance, **kwargs) -> None:
    access_changed(sender, [instance.user_id])


class MFAEnrolmentMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (request.user.is_authenticated and not request.path.startswith(ALLOWED_PREFIXES)
                and must_enrol(request)):
            return _enrol_first(request)
        return self.get_response(request)


def _enrol_first(request):
    message = ("Set up your second factor: your organisation requires two-factor authentication. Scan the code "
               "with an authenticator app and enter the code it shows (or use a security key instead).")
    if getattr(request.user, "staff_role", "") in STAFF_ROLES_NEEDING_SECURITY_KEY:
        message = "Platform staff in your role must sign in with a security key or passkey: register one."
    elif getattr(request.user, "staff_role", ""):
        message = "Platform staff must use two-factor authentication: set up an authenticator app or a security key."
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "mfa_enrolment_required", "message": message, "fields": {}}},
                            status=403)
    messages.warning(request, message)
    return redirect("mfa_index")
