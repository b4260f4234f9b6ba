"""What allauth's flows do to an account becomes audit events, and ends sessions where it should.

- A password change ends the user's other sessions; a password reset ends all of them (and
  clears the account's sign-in lockout: the reset link is the owner's way back in).
- Removing a second factor or regenerating recovery codes (an MFA reset) ends the other sessions.
- A refused second-factor code counts towards the account's lockout, like a wrong password.

Second factors are audited from the model's own signals, not from allauth's ``authenticator_added``
and friends: allauth sends some of those after the transaction commits, and an audit event must be
written in the same transaction as the change it records.
"""

from __future__ import annotations

from allauth.core import context as allauth_context
from allauth.usersessions.models import UserSession

from bastion.audit.context import client_address
from bastion.identity import lockout, signin_events
from bastion.identity.audit_actions import (
    AUTH_EMAIL_CONFIRMED,
    AUTH_MFA_ADDED,
    AUTH_MFA_FAILED,
    AUTH_MFA_REMOVED,
    AUTH_PASSWORD_CHANGED,
    AUTH_PASSWORD_RESET,
    AUTH_SIGNUP,
)


def _end_sessions(user, *, keep=None) -> int:
    ended = 0
    for session in UserSession.objects.filter(user_id=user.pk):
        if keep is not None and session.session_key == keep:
            continue
        ended += session.exists()  # not one whose key the change itself cycled away
        session.end()
    return ended


def _current_session_key(request):
    session = getattr(request, "session", None)
    return session.session_key if session is not None else None


def on_password_changed(sender, request, user, **kwargs) -> None:
    ended = _end_sessions(user, keep=_current_session_key(request))
    signin_events.record_for_user(AUTH_PASSWORD_CHANGED, user, sessions_ended=ended)


def on_password_reset(sender, request, user, **kwargs) -> None:
    from allauth.account.internal.flows.email_verification_by_code import EMAIL_VERIFICATION_CODE_SESSION_KEY
    from allauth.account.internal.stagekit import pop_login

    ended = _end_sessions(user)
    # The reset link proved the address: a code verification this browser began before (a sign-up
    # answered "already exists") no longer stands between it and signing in.
    if getattr(request, "session", None) is not None:
        request.session.pop(EMAIL_VERIFICATION_CODE_SESSION_KEY, None)
        pop_login(request)
    lockout.record_success(user.get_username())
    signin_events.record_for_user(AUTH_PASSWORD_RESET, user, sessions_ended=ended)


def _authenticator_summary(authenticator) -> dict:
    summary = {"type": authenticator.type}
    name = (authenticator.data or {}).get("name") if authenticator.type == "webauthn" else None
    if name:
        summary["name"] = str(name)[:100]
    return summary


def on_authenticator_saved(sender, instance, created, **kwargs) -> None:
    if created:
        signin_events.record_for_user(AUTH_MFA_ADDED, instance.user, **_authenticator_summary(instance))


def on_authenticator_deleted(sender, instance, **kwargs) -> None:
    ended = _end_sessions(instance.user, keep=_current_session_key(allauth_context.request))
    signin_events.record_for_user(AUTH_MFA_REMOVED, instance.user, sessions_ended=ended,
                                  **_authenticator_summary(instance))


def on_mfa_failed(sender, request, user, authenticator=None, **kwargs) -> None:
    username = user.get_username()
    details = _authenticator_summary(authenticator) if authenticator is not None else {}
    signin_events.record_for_user(AUTH_MFA_FAILED, user, **details)
    if locked := lockout.record_failure(username, client_address(request) if request else None):
        signin_events.on_lockout(username, locked)


def on_signed_up(sender, request, user, **kwargs) -> None:
    signin_events.record_for_user(AUTH_SIGNUP, user)


def on_email_confirmed(sender, request, email_address, **kwargs) -> None:
    signin_events.record_for_user(AUTH_EMAIL_CONFIRMED, email_address.user, email=email_address.email)
