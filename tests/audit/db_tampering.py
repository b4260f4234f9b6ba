"""Make committed chains and tamper with them the way an attacker with database access would.

On PostgreSQL: events are appended by a thread with its own (committing) connection, and the
tampering is done as a superuser with triggers switched off (``session_replication_role``), so
the test's own transaction sees the result, as ``bastion audit verify`` would. On SQLite (one
writer at a time) both happen in the test's transaction, the triggers dropped first.
"""

from __future__ import annotations

import os
import threading
import uuid

from django.db import connection, transaction

from bastion.audit import chain as audit
from bastion.db.rls import set_setting

TABLE = "audit_auditevent"


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def _append(chain_id: str, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            # Every third event names a person: format 2 keeps their address outside the chain.
            changes = {"i": i, "note": f"event {i}"} | ({"user": f"person{i}@tampering.example"} if i % 3 == 1 else {})
            audit.record("audit.exported", organisation_id=chain_id, resource_type="test", resource_id=i,
                         changes=changes)


def committed(function, *args):
    """Run ``function`` so that what it writes is committed, as a job or a request would.

    On PostgreSQL: in a thread, on its own connection. Locks it takes are released when it
    returns, so the superuser's clean-up never waits on the test's transaction. On SQLite (one
    writer at a time) in the test's own transaction.
    """
    if not on_postgres():
        return function(*args)
    outcome: dict = {}

    def work():
        try:
            outcome["value"] = function(*args)
        except Exception as exc:  # re-raised in the test's thread
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def run_threads(target, count: int) -> list[Exception]:
    """Run ``target(index)`` in ``count`` threads at once, each on its own connection; returns
    what they raised."""
    errors: list[Exception] = []

    def guarded(index: int):
        try:
            target(index)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def make_chain(count: int) -> str:
    chain_id = str(uuid.uuid4())
    committed(_append, chain_id, count)
    return chain_id


def superuser_connection():
    import psycopg
    from django.conf import settings

    url = os.environ.get("BASTION_TEST_PG_SUPERUSER_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    conninfo = psycopg.conninfo.make_conninfo(url, dbname=settings.DATABASES["default"]["NAME"])
    return psycopg.connect(conninfo, autocommit=True)


def _sqlite_value(value):
    """Django stores UUIDs on SQLite as 32 hex digits without dashes."""
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, str):
        try:
            return uuid.UUID(value).hex if len(value) == 36 else value
        except ValueError:
            return value
    return value


def tamper(sql: str, params: tuple = (), *,
           append_only: tuple[str, ...] = (TABLE, "audit_checkpoint", "audit_prunedprefix")) -> None:
    """Run ``sql`` with the append-only triggers of the ``append_only`` tables (by default the audit
    log's events and checkpoints) out of the way: a superuser replica session on PostgreSQL, the
    triggers dropped on SQLite (the test's rollback restores them)."""
    if on_postgres():
        with superuser_connection() as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(sql, params)
    else:
        with connection.cursor() as cursor:
            for table in append_only:
                for operation in ("update", "delete"):
                    cursor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only_{operation}"')
            cursor.execute(sql, tuple(_sqlite_value(p) for p in params))


def forget(chain_id: str) -> None:
    """Remove a committed test chain (PostgreSQL); on SQLite the test's rollback does it."""
    if on_postgres():
        with superuser_connection() as conn:
            conn.execute("SET session_replication_role = replica")
            for table in ("audit_auditevent", "audit_checkpoint", "audit_chainhead", "audit_verificationresult",
                          "audit_personaldetails", "audit_pseudonym", "audit_prunedprefix"):
                conn.execute(f"DELETE FROM {table} WHERE chain_id = %s", (chain_id,))


def rewrite_consistently(chain_id: str, seq: int, *, drop_checkpoints: bool = False) -> None:
    """What a superuser attacker does: change event ``seq`` (its actor becomes "framed"), recompute
    every later hash with the documented formula, and update the head (hash and Merkle frontier);
    with ``drop_checkpoints`` also delete the chain's checkpoint rows and reset the head's count."""
    import json

    from bastion.audit.format import entry_hash
    from bastion.audit.merkle import Frontier
    from bastion.audit.models import AuditEvent

    tamper(f"UPDATE {TABLE} SET actor_label = 'framed' WHERE chain_id = %s AND seq = %s", (chain_id, seq))
    with transaction.atomic():
        set_setting("bastion.org_id", chain_id)
        events = list(AuditEvent.objects.filter(chain_id=chain_id).order_by("seq"))
    prev, frontier = bytes(32), Frontier()
    for event in events:
        digest = entry_hash(prev, audit.body_of(event))
        if event.seq >= seq:
            tamper(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE chain_id = %s AND seq = %s",
                   (prev.hex(), digest.hex(), chain_id, event.seq))
        frontier.append(digest)
        prev = digest
    tamper("UPDATE audit_chainhead SET hash = %s, frontier = %s WHERE chain_id = %s",
           (prev.hex(), json.dumps(frontier.to_json()), chain_id))
    if drop_checkpoints:
        tamper("DELETE FROM audit_checkpoint WHERE chain_id = %s", (chain_id,))
        tamper("UPDATE audit_chainhead SET checkpointed_size = 0, anchored_size = 0 WHERE chain_id = %s", (chain_id,))
