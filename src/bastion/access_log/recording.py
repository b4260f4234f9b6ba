"""Record what a request showed: one append to the organisation's read-access chain per request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import QuerySet
from django.db.models.sql import InsertQuery
from django.utils import timezone

from bastion.access_log import people
from bastion.access_log.configuration import enabled
from bastion.access_log.models import AccessBatch, AccessLogHead
from bastion.audit.context import current_actor, request_metadata
from bastion.audit.format import GENESIS_HASH, entry_hash, format_time
from bastion.audit.models import Pseudonym
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


def _locked_head(organisation_id: uuid.UUID, pseudonym: QuerySet[Pseudonym, Any] | None) -> tuple[int, str, str | None]:
    """The chain's head (seq, hash), created on first use and locked until the transaction ends, in one
    statement: ``ON CONFLICT DO UPDATE`` takes the row lock, so a concurrent append waits here and then
    reads the head this one leaves (no fork, no gap). The same statement returns the ``pseudonym``
    query's answer (the actor's existing pseudonym), saving a round trip per logged request."""
    head = AccessLogHead._meta
    table, quote = head.db_table, connection.ops.quote_name
    returning, returning_params = "NULL", ()
    if pseudonym is not None:
        returning, returning_params = pseudonym.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(table)} (id, organisation_id, seq, hash) VALUES (%s, %s, 0, %s)"
            f" ON CONFLICT (organisation_id) DO UPDATE SET seq = {quote(table)}.seq"
            f" RETURNING seq, hash, ({returning})",
            [head.pk.get_db_prep_value(uuid.uuid4(), connection),
             head.get_field("organisation").get_db_prep_value(organisation_id, connection), GENESIS_HASH.hex(),
             *returning_params])
        seq, digest, known = cursor.fetchone()
    return seq, digest, known


def _append(batch: AccessBatch, previous_seq: int) -> None:
    """Insert ``batch`` and move the head onto it: one statement on PostgreSQL (the insert as a
    data-modifying CTE of the head's update), two on SQLite, whose round trips are in-process."""
    query = InsertQuery(AccessBatch)
    query.insert_values(_BATCH_FIELDS, [batch])
    [(insert, insert_params)] = query.get_compiler(connection=connection).as_sql()
    head = AccessLogHead._meta
    move = (f"UPDATE {connection.ops.quote_name(head.db_table)} SET seq = %s, hash = %s"
            " WHERE organisation_id = %s AND seq = %s")
    move_params = [batch.seq, batch.hash, head.get_field("organisation").get_db_prep_value(batch.organisation_id,
                                                                                           connection), previous_seq]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"WITH added AS ({insert}) {move}", [*insert_params, *move_params])
        else:
            cursor.execute(insert, insert_params)
            cursor.execute(move, move_params)
        if cursor.rowcount != 1:  # the head moved under us: never happens while its row is locked
            raise DatabaseError("the read-access log's head moved during an append")


def record(organisation_id: uuid.UUID, kind: str, resources: Iterable[tuple[str, Any]], *,
           grant_id: uuid.UUID | None = None) -> AccessBatch | None:
    """Append one batch listing ``resources`` (``(type, id)`` pairs) if the organisation logs ``kind``."""
    shown = [[str(kind_), str(item)] for kind_, item in resources]
    if not shown or not enabled(organisation_id, kind):
        return None
    active = current_organisation_id()
    if active is not None and active != organisation_id:
        raise PermissionError("refusing to write a row of another organisation than the active one")
    actor = current_actor()
    _ip, _agent, request_id = request_metadata()
    # No savepoint: a failed append fails the request's whole transaction, as it should.
    with transaction.atomic(savepoint=False):
        previous_seq, previous_hash, pseudonym = _locked_head(organisation_id,
                                                              people.known_pseudonym(organisation_id, actor))
        actor_id, actor_label = (pseudonym, "") if pseudonym else people.recorded(organisation_id, actor)
        moment = timezone.now()
        seq = previous_seq + 1
        body = batch_body(organisation=str(organisation_id), seq=seq, time=format_time(moment), kind=kind,
                          actor_type=actor.type, actor_id=actor_id, actor_label=actor_label, resources=shown,
                          request_id=request_id, grant_id=str(grant_id) if grant_id else None)
        batch = AccessBatch(
            organisation_id=organisation_id, seq=seq, occurred_at=moment, kind=kind, actor_type=actor.type,
            actor_id=actor_id, actor_label=actor_label, resources=shown,
            resource_keys=" " + " ".join(f"{t}:{i}" for t, i in shown) + " ", request_id=request_id,
            grant_id=grant_id, prev_hash=previous_hash,
            hash=entry_hash(bytes.fromhex(previous_hash), body).hex())
        _append(batch, previous_seq)
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
