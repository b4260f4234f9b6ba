"""Step-up ("sudo mode"): the actions that hand out lasting power need a second factor used
within the last few minutes, not only a signed-in session.

They are: creating an API key or a SCIM token, configuring single sign-on (the connection and its
domains), changing the organisation's MFA policy, granting or defining an admin-grade role
(``tenancy.permissions.requires_mfa``, also when inviting someone to one), and deleting the
organisation (irreversible: its keys are destroyed). A stolen session cookie, or a password-only session, can
do none of them. An API key never can: it cannot present a second factor, and a key that could mint
keys, tokens or admins would outlive its own revocation.

A second factor "used" is any MFA step allauth recorded in this session (signing in with it, or
confirming at ``/accounts/2fa/reauthenticate/``) less than ``BASTION_STEP_UP_SECONDS`` ago.
"""

from __future__ import annotations

import functools
import time

from allauth.account.internal.flows.login import get_authentication_records
from django.conf import settings
from django.core.exceptions import ValidationError

from bastion.tenancy.access import AccessDenied
from bastion.tenancy.actions import parse_role
from bastion.tenancy.permissions import BUILTIN_ROLES, requires_mfa

REAUTHENTICATE_URL = "/accounts/2fa/reauthenticate/"


class StepUpRequired(AccessDenied):
    status = 403
    code = "step_up_required"
    message = (f"Confirm it is you with your second factor ({REAUTHENTICATE_URL}), then try again: "
               "this action needs a second factor used within the last few minutes.")


class PersonRequired(StepUpRequired):
    message = "An API key cannot do this: a person with a recently used second factor must."


def recently_used_second_factor(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    cutoff = time.time() - settings.BASTION_STEP_UP_SECONDS
    return any(record.get("method") == "mfa" and float(record.get("at", 0)) >= cutoff
               for record in get_authentication_records(request, user))


def require(request) -> None:
    """Refuse (``StepUpRequired``, 403) unless a person used their second factor just now."""
    if getattr(request, "principal", None) is not None:
        raise PersonRequired()
    if not recently_used_second_factor(request):
        raise StepUpRequired()


def require_for_role(request, organisation, role: str) -> None:
    """Step-up when ``role`` (a role key) is admin-grade; unknown roles are left to the action."""
    try:
        builtin, custom = parse_role(organisation, role)
    except ValidationError:
        return  # the action itself answers an unknown role
    permissions = frozenset(custom.permissions) if custom is not None else BUILTIN_ROLES[builtin]
    if requires_mfa(permissions):
        require(request)


def require_for_permissions(request, permissions) -> None:
    """Step-up when a custom role is being given admin-grade permissions."""
    if requires_mfa(set(permissions)):
        require(request)


def step_up_required(view):
    """Declare that a view (below its ``@requires``) needs a recently used second factor."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        require(request)
        return view(request, *args, **kwargs)

    return wrapper
