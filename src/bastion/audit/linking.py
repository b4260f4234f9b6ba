"""Linking an event into its chain under the head's lock: the only part of an append that waits.

The event's canonical body is computed before the lock with ``seq`` 0 and cut around that number
(``around_seq``); the entry hash is then ``SHA-256(prev_hash || before || seq || after)``, exactly
``format.entry_hash`` of the body with its real ``seq`` (tests/audit/test_linking.py pins the two
together for escapes, non-ASCII text and every change of digit count).

PostgreSQL: one statement creates or locks the head, moves it (the database computes the hash) and
inserts the event linked to it. ``ON CONFLICT DO UPDATE`` takes the head's row lock and re-reads its
latest version, so a concurrent append waits and then follows this one: no fork, no gap.
SQLite: a write transaction holds the whole database, so the head is read, the hash computed here,
and the event and the head written in turn.
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from django.db import connection
from django.db.models import Field
from django.utils import timezone

from bastion.audit import jcs
from bastion.audit.format import GENESIS_HASH, canonical
from bastion.audit.models import AuditEvent, ChainHead

_LINKED = ("id", "seq", "prev_hash", "hash")
_FIELDS: list[Field[Any, Any]] = [f for f in AuditEvent._meta.local_concrete_fields if f.attname not in _LINKED]


def around_seq(body: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes of an event ``body`` built with ``seq`` 0, before and after that number.
    ``seq`` and ``time`` are its last two keys, and ``time`` is a string, so the bytes end exactly with
    ``,"seq":0,"time":"…"}``; anything else is refused."""
    after = b',"time":' + jcs.dumps(body["time"]) + b"}"
    text = canonical(body)
    if body["seq"] != 0 or not text.endswith(b',"seq":0' + after):
        raise ValueError("an event body must carry seq 0 and end with its seq and time")
    return text[: -len(after) - 1], after


def link_hash(prev_hash: bytes, before: bytes, seq: int, after: bytes) -> bytes:
    return hashlib.sha256(prev_hash + before + str(seq).encode() + after).digest()


def append(event: AuditEvent, before: bytes, after: bytes) -> int:
    """Insert ``event`` as the next of its chain (its seq, prev_hash and hash set here); the head's
    ``checkpointed_size``."""
    if connection.vendor == "postgresql":
        return _append_postgres(event, before, after)
    return _append_sqlite(event, before, after)


@functools.cache
def _postgres_sql() -> str:
    quote = connection.ops.quote_name
    head, events = quote(ChainHead._meta.db_table), quote(AuditEvent._meta.db_table)
    columns = ", ".join(quote(f.column) for f in _FIELDS)
    values = ", ".join(["%s"] * len(_FIELDS))
    return (f"WITH head AS (INSERT INTO {head} (chain_id, seq, hash, prev_hash, frontier, checkpointed_size,"
            f" anchored_size, updated_at) VALUES (%s, 1, %s, %s, '[]'::jsonb, 0, 0, %s)"
            f" ON CONFLICT (chain_id) DO UPDATE SET seq = {head}.seq + 1, prev_hash = {head}.hash,"
            f" hash = encode(sha256(decode({head}.hash, 'hex') || %s::bytea"
            f" || convert_to(({head}.seq + 1)::text, 'UTF8') || %s::bytea), 'hex'), updated_at = EXCLUDED.updated_at"
            f" RETURNING seq, prev_hash, hash, checkpointed_size)"
            f" INSERT INTO {events} ({columns}, seq, prev_hash, hash) VALUES ({values},"
            f" (SELECT seq FROM head), (SELECT prev_hash FROM head), (SELECT hash FROM head))"
            f" RETURNING id, seq, prev_hash, hash, (SELECT checkpointed_size FROM head)")


def _append_postgres(event: AuditEvent, before: bytes, after: bytes) -> int:
    chain = ChainHead._meta.pk.get_db_prep_value(event.chain_id, connection)
    genesis = GENESIS_HASH.hex()
    params = [chain, link_hash(GENESIS_HASH, before, 1, after).hex(), genesis, timezone.now(), before, after,
              *(f.get_db_prep_save(getattr(event, f.attname), connection) for f in _FIELDS)]
    with connection.cursor() as cursor:
        cursor.execute(_postgres_sql(), params)
        event.id, event.seq, event.prev_hash, event.hash, checkpointed = cursor.fetchone()
    event._state.adding, event._state.db = False, connection.alias
    return int(checkpointed)


def _append_sqlite(event: AuditEvent, before: bytes, after: bytes) -> int:
    ChainHead.objects.bulk_create([ChainHead(chain_id=event.chain_id)], ignore_conflicts=True)
    head = ChainHead.objects.get(chain_id=event.chain_id)
    event.seq, event.prev_hash = head.seq + 1, head.hash
    event.hash = link_hash(bytes.fromhex(head.hash), before, event.seq, after).hex()
    event.save(force_insert=True)
    head.seq, head.prev_hash, head.hash = event.seq, event.prev_hash, event.hash
    head.save(update_fields=["seq", "prev_hash", "hash", "updated_at"])
    return head.checkpointed_size
