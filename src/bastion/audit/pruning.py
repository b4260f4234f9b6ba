"""Pruning a chain at the end of its retention, only ever at a signed checkpoint boundary.

The events 1..S of a chain go when S is the tree size of a signed checkpoint and every one of them
is older than the cutoff (the retention period, e.g. the audit log's 7 years, counted back from now).
Before anything is deleted, the events are re-hashed up to S and their Merkle root must equal the
checkpoint's signed root: what is recorded in their place (``PrunedPrefix``: the frontier and the
head hash at S) is then exactly what the signature covers, and verification — in the database and
offline, from the export — starts there. The delete itself goes through ``bastion_prune_audit`` on
PostgreSQL (SECURITY DEFINER; the trigger lets a DELETE through only inside it, only up to a recorded
prefix at a checkpoint) and is audited in the chain itself (``audit.events.pruned``).
"""

from __future__ import annotations

import dataclasses
import datetime

from django.db import connection, transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.audit_actions import AUDIT_EVENTS_PRUNED
from bastion.audit.checkpoints import enter_chain
from bastion.audit.format import GENESIS_HASH, entry_hash
from bastion.audit.merkle import Frontier
from bastion.audit.models import AuditEvent, Checkpoint, PersonalDetails, PrunedPrefix
from bastion.db.platform import PLATFORM_ID


@dataclasses.dataclass
class PruneOutcome:
    chain_id: str
    cutoff: datetime.datetime
    tree_size: int = 0  # the checkpoint boundary pruned up to (0: nothing to prune)
    deleted: int = 0
    problem: str = ""  # why nothing was pruned although events are past the cutoff


class PruneRefused(Exception):
    pass


def start_of(chain_id: str) -> PrunedPrefix | None:
    """Where the chain's stored events start (the latest pruned prefix), inside the caller's transaction."""
    return PrunedPrefix.objects.filter(chain_id=chain_id).order_by("-tree_size").first()


def boundary(chain_id: str, cutoff: datetime.datetime) -> int:
    """The largest signed checkpoint whose events are all older than ``cutoff`` (0: none)."""
    prefix = start_of(chain_id)
    done = prefix.tree_size if prefix else 0
    sizes = Checkpoint.objects.filter(chain_id=chain_id, tree_size__gt=done).order_by("-tree_size") \
        .values_list("tree_size", flat=True)
    for size in sizes:
        last = AuditEvent.objects.filter(chain_id=chain_id, seq__lte=size, seq__gt=done).order_by("-occurred_at") \
            .values_list("occurred_at", flat=True).first()
        if last is not None and last < cutoff:
            return size
    return 0


def prune(chain_id: str, cutoff: datetime.datetime, *, dry_run: bool = False) -> PruneOutcome:
    """Prune the chain up to ``boundary(chain_id, cutoff)``; in its own transaction."""
    outcome = PruneOutcome(chain_id, cutoff)
    with transaction.atomic():
        enter_chain(chain_id)
        size = boundary(chain_id, cutoff)
        if not size:
            return outcome
        prefix = start_of(chain_id)
        done = prefix.tree_size if prefix else 0
        outcome.tree_size = size
        outcome.deleted = size - done
        if dry_run:
            return outcome
        frontier, head = _recompute(chain_id, prefix, size)
        checkpoint = Checkpoint.objects.get(chain_id=chain_id, tree_size=size)
        if frontier.root().hex() != checkpoint.root_hash:
            outcome.problem = (f"the events up to {size} do not match the signed checkpoint at tree size {size}: "
                               "nothing pruned (run bastion audit verify)")
            outcome.tree_size = outcome.deleted = 0
            return outcome
        PrunedPrefix.objects.create(chain_id=chain_id, tree_size=size, head_hash=head.hex(),
                                    frontier=frontier.to_json(), pruned_at=timezone.now(), cutoff=cutoff)
        outcome.deleted = _delete(chain_id, size, cutoff)
        organisation_id = None if chain_id == PLATFORM_ID else chain_id
        audit_chain.record(AUDIT_EVENTS_PRUNED, organisation_id=organisation_id, resource_type="audit_chain",
                           resource_id=chain_id, changes={"up_to": size, "deleted": outcome.deleted,
                                                          "cutoff": cutoff, "root_hash": checkpoint.root_hash})
    return outcome


def _recompute(chain_id: str, prefix: PrunedPrefix | None, size: int) -> tuple[Frontier, bytes]:
    """The frontier and head hash at ``size``, re-hashed from the stored events (not trusted from rows)."""
    frontier = Frontier.from_json(prefix.frontier) if prefix else Frontier()
    head = bytes.fromhex(prefix.head_hash) if prefix else GENESIS_HASH
    events = AuditEvent.objects.filter(chain_id=chain_id, seq__gt=frontier.size, seq__lte=size).order_by("seq")
    for expected, event in enumerate(events.iterator(chunk_size=2000), frontier.size + 1):
        digest = entry_hash(head, audit_chain.body_of(event))
        if event.seq != expected or event.prev_hash != head.hex() or digest.hex() != event.hash:
            raise PruneRefused(f"chain {chain_id} is broken at sequence {expected}: nothing pruned")
        frontier.append(digest)
        head = digest
    if frontier.size != size:
        raise PruneRefused(f"chain {chain_id} holds {frontier.size} of the {size} events to prune")
    return frontier, head


def _delete(chain_id: str, size: int, cutoff: datetime.datetime) -> int:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT bastion_prune_audit(%s::uuid, %s, %s)", [chain_id, size, cutoff])
            row = cursor.fetchone()
        return int(row[0]) if row else 0
    # SQLite: the delete trigger lets through only events under a recorded prefix at a checkpoint.
    PersonalDetails.objects.filter(chain_id=chain_id, seq__lte=size).delete()
    deleted, _ = AuditEvent.objects.filter(chain_id=chain_id, seq__lte=size).delete()
    return deleted
