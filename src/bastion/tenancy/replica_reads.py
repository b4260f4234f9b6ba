"""Reads from a streaming replica (``DATABASE_REPLICA_URL``), never older than the reader's own writes.

What may be read on the replica, and why only that:

* Only the record lists a view opts in to with ``@replica_reads.allowed`` (emissions, energy and
  supplier lists: the bulk of read traffic, where a replica helps), and within them only the
  models in ``REPLICA_SAFE``. Everything else reads the primary: authorization (memberships,
  roles, projects), sessions, lockout, MFA, API keys and their revocation, staff grants, the
  audit log and the read-access log. A replica is behind by some milliseconds, or by much more
  when it is paused or cut off; a revoked key, a removed membership or a locked account must take
  effect on the very next request, so a stale copy of them is never consulted. The router answers
  ``"default"`` for those models, explicitly: a related object fetched from a replica row would
  otherwise follow its instance to the replica.
* Anything inside a nested ``transaction.atomic()`` (work that writes) reads the primary, and
  so does every write: the replica is a hot standby and refuses them anyway.
* Read-your-writes: when a request writes one of the replica-readable tables, the primary's WAL
  position (``pg_current_wal_lsn()``) after the commit is kept in the shared cache under the
  principal (the user, or the API key). A later read of that principal goes to the replica only
  once the replica has replayed that far (``pg_last_wal_replay_lsn()``, probed at most every
  ``FRESH_SECONDS`` per process). A principal that has written nothing lately reads the replica.
* A replica that is down, promoted (no longer in recovery) or unreachable is not used: reads fall
  back to the primary (probed again after ``RETRY_SECONDS``).
* Row-level security holds on the replica: the app connects there as the same role (not owner,
  not superuser), and the transaction's tenant settings (``bastion.org_id``, ``bastion.user_id``)
  are applied on the replica connection before each of its queries, from the same context the
  primary's ``SET LOCAL`` comes from; ``bastion.scope`` is always cleared there (no platform-wide
  reads on the replica). Without them the replica would show nothing; they can never show more.

Without ``DATABASE_REPLICA_URL`` none of this is installed (no router, no middleware).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from bastion.tenancy import context

REPLICA_ALIAS = "replica"
REPLICA_SAFE = frozenset({"records.EmissionRecord", "records.EnergyRecord", "records.Supplier"})
FRESH_SECONDS = 0.1  # how long a probe of the replica's replay position is trusted
RETRY_SECONDS = 2.0  # how long a replica that failed a probe is left alone
WRITE_KEPT_SECONDS = 3600  # a replica an hour behind a principal's write is broken: the primary answers meanwhile
_WRITE = re.compile(r"\s*(?:INSERT|UPDATE|DELETE|MERGE|TRUNCATE|COPY)\b", re.IGNORECASE)

_View = TypeVar("_View", bound=Callable[..., Any])


def configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES


def lsn(text: str) -> int:
    """A PostgreSQL WAL position (``16/B374D848``) as a number."""
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclasses.dataclass
class _RequestState:
    allowed: bool = False
    principal: str | None = None
    wrote: bool = False
    last_write: int | None = None
    looked_up: bool = False


_state: ContextVar[_RequestState | None] = ContextVar("bastion_replica_reads", default=None)


def bind_principal(principal: object) -> None:
    """Called by ``authorize``: whose writes the request's reads must not be older than."""
    state = _state.get()
    if state is None:
        return
    key_id = getattr(principal, "key_id", None)
    state.principal = f"key:{key_id}" if key_id else f"user:{getattr(principal, 'pk', None)}"


def allowed(view: _View) -> _View:
    """Let a view's reads of ``REPLICA_SAFE`` models go to the replica (when it has caught up)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        state = _state.get()
        if state is None:
            return view(*args, **kwargs)
        previous, state.allowed = state.allowed, True
        try:
            return view(*args, **kwargs)
        finally:
            state.allowed = previous

    return cast(_View, wrapper)


# --- the replica connection ------------------------------------------------------------------------------------


def _apply_tenant_context(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: dict[str, Any]) -> Any:
    """Before each query on the replica: this unit of work's tenant settings (session-level: the replica
    connection runs in autocommit, so ``SET LOCAL`` would end with the statement)."""
    organisation_id, user_id = context.current_organisation_id(), context.current_user_id()
    ctx["cursor"].cursor.execute(
        "SELECT set_config('bastion.org_id', %s, false), set_config('bastion.user_id', %s, false),"
        " set_config('bastion.scope', '', false)",
        ["" if organisation_id is None else str(organisation_id), "" if user_id is None else str(user_id)],
    )
    return execute(sql, params, many, ctx)


def replica_connection() -> Any:
    connection = connections[REPLICA_ALIAS]
    if _apply_tenant_context not in connection.execute_wrappers:
        connection.execute_wrappers.append(_apply_tenant_context)
    return connection


_probe_lock = threading.Lock()
_probe: dict[str, Any] = {"at": float("-inf"), "lsn": None}


def replayed_lsn(clock: Callable[[], float] = time.monotonic) -> int | None:
    """How far the replica has replayed, or None when it cannot answer for the primary."""
    now = clock()
    with _probe_lock:
        age = now - _probe["at"]
        if age < (FRESH_SECONDS if _probe["lsn"] is not None else RETRY_SECONDS):
            return cast("int | None", _probe["lsn"])
    found: int | None = None
    connection = replica_connection()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_last_wal_replay_lsn()::text, pg_is_in_recovery()")
            text, recovering = cursor.fetchone()
        found = lsn(text) if recovering and text else None  # promoted, or not a standby: not a replica of ours
    except DatabaseError:
        with contextlib.suppress(DatabaseError):
            connection.close()
    with _probe_lock:
        _probe.update(at=clock(), lsn=found)
    return found


def forget_probe() -> None:
    with _probe_lock:
        _probe.update(at=float("-inf"), lsn=None)


def _last_write(state: _RequestState) -> int | None:
    if not state.looked_up:
        state.last_write = cache.get(_cache_key(state.principal)) if state.principal else None
        state.looked_up = True
    return state.last_write


def _cache_key(principal: str | None) -> str:
    return f"bastion:replica:last-write:{principal}"


def _may_read_replica() -> bool:
    state = _state.get()
    if state is None or not state.allowed or state.principal is None or context.current_organisation_id() is None:
        return False
    if connections[DEFAULT_DB_ALIAS].savepoint_ids:  # inside a nested atomic block: work that writes
        return False
    replayed = replayed_lsn()
    if replayed is None:
        return False
    last_write = _last_write(state)
    return last_write is None or replayed >= last_write


class ReplicaRouter:
    """Installed only with ``DATABASE_REPLICA_URL``; see the module's docstring for what goes where."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        # getattr: the database cache's model is a stand-in whose _meta has no label (it reads the primary).
        label: str = getattr(model._meta, "label", "")  # type: ignore[attr-defined]
        if label in REPLICA_SAFE and _may_read_replica():
            replica_connection()
            return REPLICA_ALIAS
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same database, one of them a copy

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool | None:
        return False if db == REPLICA_ALIAS else None


# --- recording writes ------------------------------------------------------------------------------------------


@functools.cache
def _watched_tables() -> tuple[str, ...]:
    return tuple(f'"{apps.get_model(label)._meta.db_table}"' for label in sorted(REPLICA_SAFE))


def _watch_writes(execute: Callable[..., Any], sql: str, params: Any, many: bool, ctx: dict[str, Any]) -> Any:
    result = execute(sql, params, many, ctx)
    state = _state.get()
    if state is not None and not state.wrote and _WRITE.match(sql) and any(t in sql for t in _watched_tables()):
        state.wrote = True
    return result


def record_write(principal: str) -> int:
    """Keep the primary's WAL position as the principal's last write (after its transaction committed)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        position = lsn(cursor.fetchone()[0])
    cache.set(_cache_key(principal), position, WRITE_KEPT_SECONDS)
    return position


@contextlib.contextmanager
def request_scope() -> Iterator[_RequestState]:
    state = _RequestState()
    token = _state.set(state)
    try:
        with connections[DEFAULT_DB_ALIAS].execute_wrapper(_watch_writes):
            yield state
    finally:
        _state.reset(token)


class ReplicaReadsMiddleware:
    """Around every request (installed only with a replica): watch for writes of replica-readable
    tables and, once the request's transaction has committed, record where the primary's WAL stood."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_scope() as state:
            response = self.get_response(request)
        if state.wrote:
            user = getattr(request, "user", None)
            principal = state.principal or (f"user:{user.pk}" if user is not None and user.is_authenticated else None)
            if principal is not None:
                record_write(principal)
        return response
