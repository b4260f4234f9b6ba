"""Re-compute every chain from the database: ``bastion audit verify`` and the daily job.

Streams events in sequence order (server-side cursor on PostgreSQL), so memory stays constant
whatever the length of the chain: only the running hash and the Merkle frontier are kept.
"""

from __future__ import annotations

import base64
import logging
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.chain import enter_chain
from bastion.audit import signing
from bastion.audit.format import GENESIS_HASH, PLATFORM_CHAIN, canonical, checkpoint_body, entry_hash
from bastion.audit.merkle import Frontier
from bastion.audit.models import AuditEvent, ChainHead, Checkpoint, VerificationResult
from bastion.db.rls import set_setting

logger = logging.getLogger("bastion.audit")


@dataclass
class ChainReport:
    chain_id: str
    ok: bool = True
    events: int = 0
    checkpoints: int = 0
    first_bad_seq: int | None = None
    message: str = ""

    def fail(self, seq: int | None, message: str) -> None:
        if self.ok:
            self.ok, self.first_bad_seq, self.message = False, seq, message


def signature_problem(body: dict, signature: str, keys: dict[str, bytes]) -> str | None:
    key = keys.get(body["key_id"])
    if key is None:
        return f"signed with unknown key {body['key_id']}"
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(base64.b64decode(signature), canonical(body))
    except (InvalidSignature, ValueError):
        return "signature does not verify"
    return None


def verify_chain(chain_id: str, *, progress: Callable[[int], None] | None = None) -> ChainReport:
    report = ChainReport(chain_id=chain_id)
    keys = signing.public_keys()
    with transaction.atomic():
        enter_chain(chain_id)
        head = ChainHead.objects.filter(chain_id=chain_id).first()
        pending = list(Checkpoint.objects.filter(chain_id=chain_id).order_by("tree_size"))
        report.checkpoints = len(pending)
        frontier, prev, expected = Frontier(), GENESIS_HASH, 1
        events = AuditEvent.objects.filter(chain_id=chain_id).order_by("seq").iterator(chunk_size=2000)
        for event in events:
            if event.seq != expected:
                gap = "missing" if event.seq > expected else "duplicated or out of order"
                report.fail(expected, f"sequence {expected}: expected {expected}, found {event.seq} (events {gap})")
                break
            if event.prev_hash != prev.hex():
                report.fail(event.seq, f"sequence {event.seq}: does not follow the previous entry's hash")
                break
            digest = entry_hash(prev, audit_chain.body_of(event))
            if digest.hex() != event.hash:
                report.fail(event.seq, f"sequence {event.seq}: content does not match its hash (event altered)")
                break
            frontier.append(digest)
            prev, expected = digest, expected + 1
            report.events += 1
            while pending and pending[0].tree_size == event.seq:
                _check_checkpoint(report, pending.pop(0), frontier, keys)
            if progress and report.events % 1000 == 0:
                progress(report.events)
        if report.ok:
            last = expected - 1
            if pending:
                report.fail(last + 1, f"checkpoint at tree size {pending[0].tree_size} is beyond the last event {last}")
            elif head is None and last:
                report.fail(None, "the chain has events but no head")
            elif head is not None and (head.seq != last or head.hash != prev.hex()):
                report.fail(last + 1, f"sequence {last + 1}: the head records {head.seq} events, found {last} (events missing)")
    if progress:
        progress(report.events)
    return report


def _check_checkpoint(report: ChainReport, checkpoint: Checkpoint, frontier: Frontier, keys) -> None:
    body = checkpoint_body(chain=str(checkpoint.chain_id), tree_size=checkpoint.tree_size,
                           root_hash=checkpoint.root_hash, time=checkpoint.time, key_id=checkpoint.key_id)
    if frontier.root().hex() != checkpoint.root_hash:
        report.fail(checkpoint.tree_size, f"checkpoint at tree size {checkpoint.tree_size}: root does not match the events")
    elif problem := signature_problem(body, checkpoint.signature, keys):
        report.fail(checkpoint.tree_size, f"checkpoint at tree size {checkpoint.tree_size}: {problem}")


def known_chains(organisation_ids: Iterable[uuid.UUID | str]) -> list[str]:
    """Every chain to verify: the platform's, every organisation's, and any chain with a head."""
    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        heads = {str(c) for c in ChainHead.objects.values_list("chain_id", flat=True)}
    return [PLATFORM_CHAIN] + sorted((heads | {str(o) for o in organisation_ids}) - {PLATFORM_CHAIN})


def record_result(report: ChainReport, run_id: uuid.UUID, started_at) -> None:
    """Store the outcome and append it as an event of the chain itself (the platform's when broken
    beyond use is not needed: a broken chain still takes new events, linked to its head)."""
    with transaction.atomic():
        enter_chain(report.chain_id)
        VerificationResult.objects.create(
            run_id=run_id, chain_id=report.chain_id, started_at=started_at, finished_at=timezone.now(), ok=report.ok,
            events=report.events, checkpoints=report.checkpoints, first_bad_seq=report.first_bad_seq,
            message=report.message[:500],
        )
        organisation_id = None if report.chain_id == PLATFORM_CHAIN else report.chain_id
        action = "audit.verification.passed" if report.ok else "audit.verification.failed"
        audit_chain.record(action, organisation_id=organisation_id, resource_type="audit_chain",
                           resource_id=report.chain_id,
                           changes={"events": report.events, "checkpoints": report.checkpoints,
                                    "first_bad_seq": report.first_bad_seq, "message": report.message})
    if not report.ok:
        logger.error("audit chain %s is broken at sequence %s: %s", report.chain_id, report.first_bad_seq, report.message)
