"""Signed checkpoints: signing one, the periodic job that signs every chain with unsigned events,
and anchoring them outside the database (``bastion.audit.anchoring``).

A checkpoint is signed inside the transaction that makes it (an append reaching
``BASTION_AUDIT_CHECKPOINT_EVERY`` events, or the periodic job); it is anchored after that
transaction commits, and again by the periodic job until the store has it: a store that is down
delays the anchor (logged, alerted, retried each minute), never loses the checkpoint, which stays in
the database. ``ChainHead.anchored_size`` only saves work: verification reads the store itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from bastion.audit import anchoring, signing
from bastion.audit.format import canonical, checkpoint_body, format_time
from bastion.audit.merkle import Frontier
from bastion.audit.models import AuditEvent, ChainHead, Checkpoint
from bastion.db import rls
from bastion.db.platform import PLATFORM_ID

logger = logging.getLogger("bastion.audit")

Clock = Callable[[], datetime.datetime]
RETRY_DELAYS = (0.2, 1.0)  # seconds between the attempts of one anchoring pass


def enter_chain(chain_id: str) -> None:
    """Let this transaction read and write the chain: as its organisation, or in platform scope."""
    if chain_id == PLATFORM_ID:
        rls.set_setting("bastion.scope", "platform")
    else:
        rls.set_setting("bastion.org_id", chain_id)


def body_of_checkpoint(checkpoint: Checkpoint) -> dict[str, Any]:
    return checkpoint_body(chain=str(checkpoint.chain_id), tree_size=checkpoint.tree_size,
                           root_hash=checkpoint.root_hash, time=checkpoint.time, key_id=checkpoint.key_id)


def record_of(checkpoint: Checkpoint) -> dict[str, Any]:
    """A checkpoint as the export, the anchor store and ``bastion-verify --trusted-checkpoint`` read it."""
    return {"type": "checkpoint", "body": body_of_checkpoint(checkpoint), "signature": checkpoint.signature}


_anchoring = contextvars.ContextVar("bastion_audit_anchoring", default=True)


@contextlib.contextmanager
def unanchored() -> Iterator[None]:
    """Work on a restored copy (``backups.restored_database``): checkpoints signed there stay in the
    copy; anchoring them would put a copy's tree heads in the live installation's store."""
    token = _anchoring.set(False)
    try:
        yield
    finally:
        _anchoring.reset(token)


def sign(head: ChainHead, frontier: Frontier) -> Checkpoint:
    """Sign the tree head of ``head`` (locked by the caller), and anchor it once the transaction commits."""
    body = checkpoint_body(
        chain=str(head.chain_id), tree_size=head.seq, root_hash=frontier.root().hex(),
        time=format_time(timezone.now()), key_id=signing.current_key_id(),
    )
    head.checkpointed_size = head.seq
    checkpoint = Checkpoint.objects.create(
        chain_id=head.chain_id, tree_size=body["tree_size"], root_hash=body["root_hash"], time=body["time"],
        key_id=body["key_id"], signature=signing.sign(canonical(body)),
    )
    if _anchoring.get():
        transaction.on_commit(functools.partial(_anchor_after_commit, str(head.chain_id)))
    return checkpoint


def head_frontier(head: ChainHead) -> Frontier:
    """The Merkle frontier at ``head`` (locked by the caller): the head keeps it as of its last
    checkpoint, since appends do not touch it; the entry hashes of the events since are folded in."""
    frontier = Frontier.from_json(head.frontier)
    since = (AuditEvent.objects.filter(chain_id=head.chain_id, seq__gt=frontier.size, seq__lte=head.seq)
             .order_by("seq").values_list("seq", "hash"))
    for expected, (seq, digest) in enumerate(since.iterator(chunk_size=2000), frontier.size + 1):
        if seq != expected:
            raise RuntimeError(f"chain {head.chain_id}: event {expected} is missing below the head")
        frontier.append(bytes.fromhex(digest))
    if frontier.size != head.seq:
        raise RuntimeError(f"chain {head.chain_id}: the head is at {head.seq}, its events end at {frontier.size}")
    return frontier


def _anchor_after_commit(chain: str) -> None:
    """One attempt, right after the signing transaction commits; the periodic job retries what fails.
    Whatever goes wrong is logged, never raised: the change and its events are already committed."""
    try:
        anchor_chain(chain, delays=())
    except Exception:  # noqa: BLE001 (a broken anchor store must not fail a committed request)
        logger.exception("could not anchor the checkpoints of chain %s after commit", chain)


def _oldest_unsigned(head: ChainHead) -> datetime.datetime | None:
    return (AuditEvent.objects.filter(chain_id=head.chain_id, seq=head.checkpointed_size + 1)
            .values_list("occurred_at", flat=True).first())


def checkpoint_due(clock: Clock = timezone.now) -> list[str]:
    """Sign a checkpoint for every chain whose oldest unsigned event is due (the job runs each
    minute, so it is due ``BASTION_AUDIT_CHECKPOINT_SECONDS`` − 60 s after it was written); the chains signed."""
    with transaction.atomic():
        rls.set_setting("bastion.scope", "platform")
        due = [str(c) for c in ChainHead.objects.filter(seq__gt=F("checkpointed_size")).values_list("chain_id", flat=True)]
    cutoff = clock() - datetime.timedelta(seconds=settings.BASTION_AUDIT_CHECKPOINT_SECONDS - 60)
    done = []
    for chain in due:
        with transaction.atomic():
            enter_chain(chain)
            head = ChainHead.objects.select_for_update().get(chain_id=chain)
            oldest = _oldest_unsigned(head) if head.seq > head.checkpointed_size else None
            if oldest is not None and oldest <= cutoff:
                frontier = head_frontier(head)
                sign(head, frontier)
                head.frontier = frontier.to_json()
                head.save(update_fields=["frontier", "checkpointed_size", "updated_at"])
                done.append(chain)
    return done


@dataclass
class AnchorRun:
    """What one anchoring pass did: checkpoints written, and (chain, tree size, reason) for each failure."""

    anchored: list[tuple[str, int]] = field(default_factory=list)
    failed: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def _put(store: anchoring.AnchorStore, chain: str, record: dict[str, Any], sleep: Callable[[float], None],
         delays: tuple[float, ...]) -> None:
    for delay in (*delays, None):
        try:
            store.put(chain, record)
            return
        except anchoring.AnchorError as exc:
            if delay is None:
                raise
            logger.warning("anchoring checkpoint %s/%s failed, retrying in %.1f s: %s",
                           chain, record["body"]["tree_size"], delay, exc)
            sleep(delay)


def anchor_chain(chain: str, run: AnchorRun | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 delays: tuple[float, ...] = RETRY_DELAYS) -> AnchorRun:
    """Write the chain's checkpoints the store does not have yet, in order; stop at the first failure."""
    run = run if run is not None else AnchorRun()
    with transaction.atomic():
        enter_chain(chain)
        head = ChainHead.objects.filter(chain_id=chain).first()
        start = head.anchored_size if head else 0
        pending = list(Checkpoint.objects.filter(chain_id=chain, tree_size__gt=start).order_by("tree_size"))
    store, written = anchoring.store(), 0
    for checkpoint in pending:
        try:
            _put(store, chain, record_of(checkpoint), sleep, delays)
        except anchoring.AnchorError as exc:
            logger.error("could not anchor checkpoint %s/%s in %s: %s", chain, checkpoint.tree_size,
                         store.description, exc)
            run.failed.append((chain, checkpoint.tree_size, str(exc)))
            break
        written = checkpoint.tree_size
        run.anchored.append((chain, written))
    if written:
        with transaction.atomic():
            enter_chain(chain)
            ChainHead.objects.filter(chain_id=chain, anchored_size__lt=written).update(anchored_size=written)
    return run


def anchor_pending(*, progress: Callable[[int], None] | None = None,
                   sleep: Callable[[float], None] = time.sleep) -> AnchorRun:
    """Anchor every signed checkpoint not yet anchored (the periodic job, after ``checkpoint_due``)."""
    with transaction.atomic():
        rls.set_setting("bastion.scope", "platform")
        chains = [str(c) for c in ChainHead.objects.filter(checkpointed_size__gt=F("anchored_size"))
                  .values_list("chain_id", flat=True)]
    run = AnchorRun()
    for chain in chains:
        anchor_chain(chain, run, sleep=sleep)
        if progress:
            progress(len(run.anchored))
    return run
