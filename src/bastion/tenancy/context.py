"""The tenant context of the current unit of work.

The active organisation is held twice, on purpose:

* in a ``ContextVar``, read by the tenant-scoped managers (``TenantManager``) on every backend;
* on PostgreSQL, in the transaction-local setting ``bastion.org_id`` (``set_config(..., true)``,
  the function form of ``SET LOCAL``), read by the row-level security policies.

A query that forgets its organisation filter is therefore still confined twice over. Outside a
context, tenant-scoped managers return nothing and RLS shows no rows: deny by default.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from django.db import connection, transaction

from bastion.db.rls import set_setting

_current_org: ContextVar[uuid.UUID | None] = ContextVar("bastion_current_org", default=None)
_current_user: ContextVar[object | None] = ContextVar("bastion_current_user", default=None)


def current_organisation_id() -> uuid.UUID | None:
    return _current_org.get()


def current_user_id() -> object | None:
    return _current_user.get()


def bind_user(user_id: object | None) -> None:
    """Let RLS show the user's own memberships (and so their organisations) before an org is chosen."""
    _current_user.set(user_id)
    set_setting("bastion.user_id", "" if user_id is None else str(user_id))


def activate(organisation_id: uuid.UUID) -> None:
    """Make ``organisation_id`` the tenant of the current transaction."""
    if not isinstance(organisation_id, uuid.UUID):
        raise TypeError("organisation_id must be a UUID")
    _current_org.set(organisation_id)
    set_setting("bastion.org_id", str(organisation_id))


def enter(user_id: object | None, organisation_id: uuid.UUID) -> None:
    """Record a user and organisation whose database settings the caller has already set (in one
    statement with its own check: ``access_cache``)."""
    if user_id is not None:
        _current_user.set(user_id)
    _current_org.set(organisation_id)


def clear() -> None:
    _current_org.set(None)
    _current_user.set(None)
    if connection.vendor == "postgresql" and connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT set_config('bastion.org_id', '', true), set_config('bastion.user_id', '', true),"
                " set_config('bastion.scope', '', true)"
            )


@contextlib.contextmanager
def tenant_context(organisation_id: uuid.UUID) -> Iterator[None]:
    """Run a block in one transaction as ``organisation_id`` (jobs, CLI, tests)."""
    previous = _current_org.get()
    try:
        with transaction.atomic():
            activate(organisation_id)
            yield
            set_setting("bastion.org_id", "" if previous is None else str(previous))
    finally:
        _current_org.set(previous)


@contextlib.contextmanager
def platform_scope() -> Iterator[None]:
    """Let platform code (jobs, CLI) list every organisation; tenant rows stay per organisation."""
    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        try:
            yield
        finally:
            if connection.vendor == "postgresql" and not connection.needs_rollback:
                set_setting("bastion.scope", "")
