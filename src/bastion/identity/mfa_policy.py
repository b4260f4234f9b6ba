"""Who must use a second factor, and holding them to it.

MFA is required of a user who is an owner or admin of any organisation (or holds a custom role
that can manage members or roles there), and of every member of an organisation whose admins
switched on "MFA required". Such a user who signs in without a second factor is confined to
enrolling one: every other page redirects to it, and the JSON API answers 403
``mfa_enrolment_required``, until they have. The check runs at sign-in (every way in goes through
the account adapter's ``post_login``), so a policy switched on takes effect at each member's next
sign-in, as the seeds promise.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect

from bastion.tenancy import context
from bastion.tenancy.models import Membership, Organisation

SESSION_FLAG = "bastion_mfa_enrolment_required"
ADMIN_PERMISSIONS = frozenset({"members.manage", "roles.manage"})
# Where a user who must enrol may still go: the MFA pages (and what they need), and signing out.
ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/", "/static/")


def mfa_required_for(user) -> bool:
    context.bind_user(user.pk)
    organisation_ids = set(Membership.all_tenants.filter(user_id=user.pk).values_list("organisation_id", flat=True))
    for organisation_id in organisation_ids:
        with context.tenant_context(organisation_id):
            if Organisation.objects.filter(id=organisation_id, mfa_required=True).exists():
                return True
            grant = Membership.objects.filter(user_id=user.pk, workspace=None, project=None).select_related(
                "custom_role").first()
            if grant is not None and (grant.builtin_role in settings.BASTION_MFA_REQUIRED_ROLES
                                      or grant.permissions() & ADMIN_PERMISSIONS):
                return True
    return False


def has_second_factor(user) -> bool:
    return Authenticator.objects.filter(user_id=user.pk).exclude(type=Authenticator.Type.RECOVERY_CODES).exists()


def on_sign_in(request, user) -> None:
    if not has_second_factor(user) and mfa_required_for(user):
        request.session[SESSION_FLAG] = True


class MFAEnrolmentMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and request.session.get(SESSION_FLAG):
            if has_second_factor(request.user):
                del request.session[SESSION_FLAG]
            elif not request.path.startswith(ALLOWED_PREFIXES):
                return _enrol_first(request)
        return self.get_response(request)


def _enrol_first(request):
    message = "Your organisation requires two-factor authentication: set up an authenticator app or a security key."
    if request.path.startswith("/api/"):
        return JsonResponse({"error": {"code": "mfa_enrolment_required", "message": message, "fields": {}}},
                            status=403)
    messages.warning(request, message)
    return redirect("mfa_index")
