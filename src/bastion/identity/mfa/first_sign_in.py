"""The first sign-in of someone who must use a second factor: straight to setting one up.

Signing in leads to the authenticator-app set-up page, with one message saying why (not also
"Successfully signed in"); the password just typed is not asked for again within
``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds of signing in (later sensitive changes still ask);
the recovery codes are shown next, with a "continue" step that needs confirming they were saved.
"""

from __future__ import annotations

import time

from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import get_authentication_records

from bastion.identity.mfa import policy as mfa_policy

SIGNED_IN_MESSAGE = "account/messages/logged_in.txt"
SET_UP_URL = "/accounts/2fa/totp/activate/"
SET_UP_MESSAGE = (
    "Set up your second factor: your organisation requires two-factor authentication. Scan the code "
    "with an authenticator app and enter the six-digit code it shows; recovery codes come next."
)


def must_set_up_second_factor(request) -> bool:
    """Someone just signed in who must set up a second factor, and may do it with an authenticator
    app (platform staff who need a security key go to the MFA page that offers one)."""
    from bastion.identity.models import STAFF_ROLES_NEEDING_SECURITY_KEY

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.staff_role in STAFF_ROLES_NEEDING_SECURITY_KEY:
        return False
    return mfa_policy.must_enrol(request)


def signed_in_just_now(request) -> bool:
    """Whether this session's sign-in (its first authentication record) is at most
    ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` seconds old."""
    if request is None or not getattr(request, "user", None) or not request.user.is_authenticated:
        return False
    records = get_authentication_records(request, request.user)
    if not records:
        return False
    return time.time() - float(records[0].get("at", 0)) <= account_settings.REAUTHENTICATION_TIMEOUT


def hide_message(request, message_template: str | None) -> bool:
    """ "Successfully signed in" is left out for someone who must first set up a second factor."""
    if message_template != SIGNED_IN_MESSAGE or request is None or not request.user.is_authenticated:
        return False
    return mfa_policy.must_enrol(request)
