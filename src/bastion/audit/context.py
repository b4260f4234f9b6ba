"""Who is acting, from where: the metadata every audit event carries.

The middleware binds the current request; jobs and commands bind an actor with ``acting_as``.
Events read both when they are recorded, so the user is the one authenticated by then.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass

from django.http import HttpRequest


@dataclass(frozen=True)
class Actor:
    type: str  # user, api_key, scim, system, staff, anonymous, operator (a person at the CLI)
    id: str = ""
    label: str = ""


SYSTEM = Actor("system", "bastion", "Bastion")
ANONYMOUS = Actor("anonymous")

class AuditedRequest(HttpRequest):
    """A request once the audit middleware has bound it; the API sets ``audit_actor`` for its principal."""

    audit_request_id: str
    audit_actor: Actor


_request: ContextVar[HttpRequest | None] = ContextVar("bastion_audit_request", default=None)
_actor: ContextVar[Actor | None] = ContextVar("bastion_audit_actor", default=None)


@contextlib.contextmanager
def acting_as(actor: Actor) -> Iterator[None]:
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def bind_request(request: AuditedRequest) -> Token[HttpRequest | None]:
    request.audit_request_id = uuid.uuid4().hex
    return _request.set(request)


def unbind_request(token: Token[HttpRequest | None]) -> None:
    _request.reset(token)


def current_actor() -> Actor:
    actor = _actor.get()
    if actor is not None:
        return actor
    request = _request.get()
    if request is None:
        return SYSTEM
    principal = getattr(request, "audit_actor", None)
    if isinstance(principal, Actor):
        return principal
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return Actor("staff" if getattr(user, "staff_role", "") else "user", str(user.pk), user.get_username())
    return ANONYMOUS


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address: the one place that decides it (audit events, sign-in lockout, API
    key last use), so trusting a proxy's forwarded address is one change here."""
    return request.META.get("REMOTE_ADDR") or None


def request_metadata() -> tuple[str | None, str, str]:
    """(ip, user agent, request id) of the current request, or (None, "", "") outside one."""
    request = _request.get()
    if request is None:
        return None, "", ""
    meta = request.META
    return (
        client_address(request),
        (meta.get("HTTP_USER_AGENT") or "")[:500],
        getattr(request, "audit_request_id", ""),
    )
