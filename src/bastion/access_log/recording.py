"""Record what a request showed: one append to the organisation's read-access chain per request."""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Field
from django.db.models.sql import InsertQuery
from django.utils import timezone

from bastion.access_log import people
from bastion.access_log.configuration import enabled_with
from bastion.access_log.models import AccessBatch, AccessLogHead
from bastion.audit.context import current_actor, request_metadata
from bastion.audit.format import GENESIS_HASH, canonical, entry_hash, format_time
from bastion.tenancy.context import current_organisation_id

FORMAT = "bastion-access-log/1"
_BATCH_FIELDS = AccessBatch._meta.local_concrete_fields


def batch_body(*, organisation: str, seq: int, time: str, kind: str, actor_type: str, actor_id: str, actor_label: str,
               resources: list[list[str]], request_id: str, grant_id: str | None) -> dict[str, Any]:
    return {"format": FORMAT, "organisation": organisation, "seq": seq, "time": time, "kind": kind,
            "actor": {"type": actor_type, "id": actor_id, "label": actor_label}, "resources": resources,
            "request_id": request_id, "grant_id": grant_id}


def body_of(batch: AccessBatch) -> dict[str, Any]:
    return batch_body(organisation=str(batch.organisation_id), seq=batch.seq, time=format_time(batch.occurred_at),
                      kind=batch.kind, actor_type=batch.actor_type, actor_id=batch.actor_id,
                      actor_label=batch.actor_label, resources=batch.resources, request_id=batch.request_id,
                      grant_id=str(batch.grant_id) if batch.grant_id else None)


_SEQ = b',"seq":0,'


def _around_seq(body: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes of ``body`` (built with ``seq`` 0) before and after its sequence number, so
    that the database can fill the number in under the head's lock. ``seq`` is a top-level key and a
    quote inside a string is always escaped, so the marker occurs exactly once."""
    before, marker, after = canonical(body).partition(_SEQ)
    if not marker or _SEQ in after:
        raise ValueError("a batch body must carry seq 0 once, at the top level")
    return before + b',"seq":', b"," + after


def _hash(previous_hash: str, before: bytes, seq: int, after: bytes) -> str:
    """``entry_hash`` of the body with ``seq`` filled in (the same bytes, tested against it)."""
    return hashlib.sha256(bytes.fromhex(previous_hash) + before + str(seq).encode() + after).hexdigest()


@functools.cache
def _postgres_append_sql() -> tuple[str, list[Field[Any, Any]]]:
    """One statement: create or lock the head and move it onto the new batch (its hash computed by
    the database from the bytes around ``seq``: ``sha256(prev || before || seq || after)``), then
    insert the batch with what the head returned. ``ON CONFLICT DO UPDATE`` takes the head's row lock
    and re-reads its latest version, so a concurrent append waits and then follows this one: no fork,
    no gap. Built once (Django compiles an insert per call otherwise)."""
    quote = connection.ops.quote_name
    head, batch = quote(AccessLogHead._meta.db_table), quote(AccessBatch._meta.db_table)
    fields = [f for f in _BATCH_FIELDS if f.attname not in ("seq", "prev_hash", "hash")]
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    sql = (f"WITH head AS (INSERT INTO {head} (id, organisation_id, seq, hash, prev_hash) VALUES (%s, %s, 1, %s, %s)"
           f" ON CONFLICT (organisation_id) DO UPDATE SET seq = {head}.seq + 1, prev_hash = {head}.hash,"
           f" hash = encode(sha256(decode({head}.hash, 'hex') || %s::bytea"
           f" || convert_to(({head}.seq + 1)::text, 'UTF8') || %s::bytea), 'hex')"
           f" RETURNING seq, prev_hash, hash)"
           f" INSERT INTO {batch} ({columns}, seq, prev_hash, hash) VALUES ({values},"
           f" (SELECT seq FROM head), (SELECT prev_hash FROM head), (SELECT hash FROM head))"
           f" RETURNING seq, prev_hash, hash")
    return sql, fields


def _append_postgres(batch: AccessBatch, before: bytes, after: bytes) -> None:
    sql, fields = _postgres_append_sql()
    organisation = AccessLogHead._meta.get_field("organisation").get_db_prep_value(batch.organisation_id, connection)
    first = GENESIS_HASH.hex()
    params = [AccessLogHead._meta.pk.get_db_prep_value(uuid.uuid4(), connection), organisation,
              _hash(first, before, 1, after), first, before, after,
              *(f.get_db_prep_save(getattr(batch, f.attname), connection) for f in fields)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        batch.seq, batch.prev_hash, batch.hash = cursor.fetchone()


def _append_sqlite(batch: AccessBatch, before: bytes, after: bytes) -> None:
    """SQLite has no SHA-256: lock (create) the head, hash here, insert, move the head. Its round trips
    are in-process, and a write transaction holds the whole database, so nothing can interleave."""
    head = AccessLogHead._meta
    table, quote = head.db_table, connection.ops.quote_name
    organisation = head.get_field("organisation").get_db_prep_value(batch.organisation_id, connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table)} (id, organisation_id, seq, hash, prev_hash) VALUES (%s, %s, 0, %s, %s)"
            f" ON CONFLICT (organisation_id) DO UPDATE SET seq = {quote(table)}.seq RETURNING seq, hash",
            [head.pk.get_db_prep_value(uuid.uuid4(), connection), organisation, GENESIS_HASH.hex(), GENESIS_HASH.hex()])
        previous_seq, batch.prev_hash = cursor.fetchone()
        batch.seq = previous_seq + 1
        batch.hash = _hash(batch.prev_hash, before, batch.seq, after)
        query = InsertQuery(AccessBatch)
        query.insert_values(_BATCH_FIELDS, [batch])
        [(insert, insert_params)] = query.get_compiler(connection=connection).as_sql()
        cursor.execute(insert, insert_params)
        cursor.execute(f"UPDATE {quote(table)} SET seq = %s, hash = %s, prev_hash = %s"
                       " WHERE organisation_id = %s AND seq = %s",
                       [batch.seq, batch.hash, batch.prev_hash, organisation, previous_seq])
        if cursor.rowcount != 1:  # the head moved under us: never happens while the transaction holds it
            raise DatabaseError("the read-access log's head moved during an append")


def record(organisation_id: uuid.UUID, kind: str, resources: Iterable[tuple[str, Any]], *,
           grant_id: uuid.UUID | None = None) -> AccessBatch | None:
    """Append one batch listing ``resources`` (``(type, id)`` pairs) if the organisation logs ``kind``."""
    shown = [[str(kind_), str(item)] for kind_, item in resources]
    if not shown:
        return None
    actor = current_actor()
    # Whether to log, and the actor's pseudonym if they have one, in one round trip.
    logs, pseudonym = enabled_with(organisation_id, kind, people.known_pseudonym(organisation_id, actor))
    if not logs:
        return None
    active = current_organisation_id()
    if active is not None and active != organisation_id:
        raise PermissionError("refusing to write a row of another organisation than the active one")
    _ip, _agent, request_id = request_metadata()
    # No savepoint: a failed append fails the request's whole transaction, as it should.
    with transaction.atomic(savepoint=False):
        actor_id, actor_label = (pseudonym, "") if pseudonym else people.recorded(organisation_id, actor)
        moment = timezone.now()
        grant = str(grant_id) if grant_id else None
        before, after = _around_seq(batch_body(
            organisation=str(organisation_id), seq=0, time=format_time(moment), kind=kind, actor_type=actor.type,
            actor_id=actor_id, actor_label=actor_label, resources=shown, request_id=request_id, grant_id=grant))
        batch = AccessBatch(
            organisation_id=organisation_id, seq=0, occurred_at=moment, kind=kind, actor_type=actor.type,
            actor_id=actor_id, actor_label=actor_label, resources=shown,
            resource_keys=" " + " ".join(f"{t}:{i}" for t, i in shown) + " ", request_id=request_id,
            grant_id=grant_id, prev_hash="", hash="")
        (_append_postgres if connection.vendor == "postgresql" else _append_sqlite)(batch, before, after)
    batch._state.adding, batch._state.db = False, connection.alias
    return batch


@dataclass(frozen=True)
class ChainCheck:
    batches: int
    first_bad_seq: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def check(organisation_id: uuid.UUID) -> ChainCheck:
    """Re-compute the organisation's chain (run in its tenant context): every batch's hash and link, no
    gap, and a head that ends where the batches do (a deleted tail shows there)."""
    previous, expected = GENESIS_HASH.hex(), 1
    for batch in AccessBatch.all_tenants.filter(organisation_id=organisation_id).order_by("seq").iterator():
        if batch.seq != expected:
            return ChainCheck(expected - 1, expected, f"batch {expected} is missing (the next is {batch.seq})")
        if batch.prev_hash != previous:
            return ChainCheck(expected - 1, batch.seq, f"batch {batch.seq} does not link to batch {batch.seq - 1}")
        if entry_hash(bytes.fromhex(previous), body_of(batch)).hex() != batch.hash:
            return ChainCheck(expected - 1, batch.seq, f"batch {batch.seq} does not match its hash")
        previous, expected = batch.hash, expected + 1
    head = AccessLogHead.all_tenants.filter(organisation_id=organisation_id).values_list("seq", "hash").first()
    if head is None and expected > 1:
        return ChainCheck(expected - 1, expected, "the log has batches but no head")
    if head is not None and head != (expected - 1, previous):
        return ChainCheck(expected - 1, expected,
                          f"the head records {head[0]} batches but the log holds {expected - 1}")
    return ChainCheck(expected - 1)


def verify(organisation_id: uuid.UUID) -> int | None:
    """The first batch whose hash or link does not hold, or None when the whole chain does."""
    return check(organisation_id).first_bad_seq


def shown(access: Any, kind: str, resource_type: str, items: Iterable[Any]) -> None:
    """What a view calls with its ``request.access``: the objects it is about to show, in one batch.
    (``access.grant_id`` is the support-access grant a staff request runs under, when it does.)"""
    record(access.organisation.id, kind, ((resource_type, item.id) for item in items),
           grant_id=getattr(access, "grant_id", None))
