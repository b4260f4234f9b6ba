"""Every sign-in attempt, success or failure, and every sign-out becomes an audit event.

A user-level event goes to the chain of each organisation the user belongs to, so its admins
see it; an attempt on an unknown account goes to the platform's chain. Each carries the
username tried, the time, the IP and the user agent (seed 004).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from bastion.audit import chain as audit
from bastion.audit.context import Actor
from bastion.identity.audit_actions import (
    AUTH_LOCKOUT_STARTED,
    AUTH_LOGIN_FAILED,
    AUTH_LOGIN_REFUSED,
    AUTH_LOGIN_SUCCEEDED,
    AUTH_LOGOUT,
)
from bastion.identity.signals import lockout_started, sign_in_refused
from bastion.tenancy import context
from bastion.tenancy.models import Membership


def _organisations_of(user) -> list:
    context.bind_user(user.pk)
    return sorted(set(Membership.all_tenants.filter(user_id=user.pk).values_list("organisation_id", flat=True)))


def _record(action: str, user, username: str, actor: Actor, **details) -> None:
    changes = {"username": username, **details}
    with transaction.atomic():
        organisations = _organisations_of(user) if user is not None else []
        if not organisations:
            audit.record(action, resource_type="user", resource_id=getattr(user, "pk", "") or "", changes=changes,
                         actor=actor)
        for organisation_id in organisations:
            with context.tenant_context(organisation_id):
                audit.record(action, organisation_id=organisation_id, resource_type="user", resource_id=user.pk,
                             changes=changes, actor=actor)


def _user_actor(user) -> Actor:
    return Actor("staff" if getattr(user, "staff_role", "") else "user", str(user.pk), user.get_username())


def record_for_user(action: str, user, **details) -> None:
    """An event about a signed-in user's account, to the chain of each of their organisations."""
    _record(action, user, user.get_username(), _user_actor(user), **details)


def on_login(sender, request, user, **kwargs) -> None:
    _record(AUTH_LOGIN_SUCCEEDED, user, user.get_username(), _user_actor(user))


def on_logout(sender, request, user, **kwargs) -> None:
    if user is not None:
        _record(AUTH_LOGOUT, user, user.get_username(), _user_actor(user))


def _tried(username: str) -> tuple[str, object]:
    username = str(username or "")[:254].replace("\x00", "")
    return username, (get_user_model().objects.filter(email__iexact=username).first() if username else None)


def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    username, user = _tried(credentials.get("username") or credentials.get("email"))
    _record(AUTH_LOGIN_FAILED, user, username, Actor("anonymous", "", username))


def on_login_refused(username: str, locked_for_seconds: int) -> None:
    """An attempt refused without checking the password, because the account or address is locked."""
    username, user = _tried(username)
    _record(AUTH_LOGIN_REFUSED, user, username, Actor("anonymous", "", username),
            reason="locked", locked_for_seconds=locked_for_seconds)
    sign_in_refused.send(sender=None)


def on_lockout(username: str, locked: list[str]) -> None:
    username, user = _tried(username)
    _record(AUTH_LOCKOUT_STARTED, user, username, Actor("anonymous", "", username), locked=locked)
    lockout_started.send(sender=None, locked=list(locked))
