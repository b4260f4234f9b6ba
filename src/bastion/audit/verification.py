"""Re-compute every chain from the database: ``bastion audit verify`` and the daily job.

Streams events in sequence order (server-side cursor on PostgreSQL), so memory stays constant
whatever the length of the chain: only the running hash and the Merkle frontier are kept.

Besides the hashes, a chain must be *covered*: every event older than twice
``BASTION_AUDIT_CHECKPOINT_SECONDS`` lies under a valid signed checkpoint, the checkpoints grow
(never backwards, never more than ``BASTION_AUDIT_CHECKPOINT_EVERY`` events apart), the head agrees
with them, and the anchor store (``bastion.audit.anchoring``) agrees with the database: a checkpoint
anchored but missing from the database, or different there, or a checkpoint left unanchored longer
than that window, is a failure naming the tree size.
"""

from __future__ import annotations

import base64
import datetime
import json
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, transaction
from django.utils import timezone

from bastion.audit import anchoring, personal, signing
from bastion.audit import chain as audit_chain
from bastion.audit.audit_actions import AUDIT_VERIFICATION_FAILED, AUDIT_VERIFICATION_PASSED
from bastion.audit.checkpoints import Clock, body_of_checkpoint, enter_chain
from bastion.audit.format import GENESIS_HASH, canonical, entry_hash
from bastion.audit.merkle import Frontier
from bastion.audit.models import AuditEvent, ChainHead, Checkpoint, PersonalDetails, PrunedPrefix, VerificationResult
from bastion.db.platform import PLATFORM_ID
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
    starts_after: int = 0  # events up to this tree size were pruned at its signed checkpoint

    def fail(self, seq: int | None, message: str) -> None:
        """Keep the failure at the smallest sequence number (the first one found when none has one)."""
        earlier = seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq)
        if self.ok or earlier:
            self.ok, self.first_bad_seq, self.message = False, seq, message


@dataclass
class _Signed:
    """A checkpoint to check against the events: from the database, or the anchor store's record."""

    tree_size: int
    body: dict[str, Any]
    signature: str
    source: str  # "" (the database) or " (anchored)"


def signature_problem(body: dict[str, Any], signature: str, keys: dict[str, bytes]) -> str | None:
    key_id = body.get("key_id")
    key = keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        return f"signed with unknown key {body.get('key_id')}"
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(base64.b64decode(signature), canonical(body))
    except (InvalidSignature, ValueError, TypeError):
        return "signature does not verify"
    return None


def _age(moment: str, now: datetime.datetime) -> datetime.timedelta:
    try:
        return now - datetime.datetime.fromisoformat(moment)
    except (TypeError, ValueError):
        return datetime.timedelta(0)


def _check_sequence(report: ChainReport, stored: list[Checkpoint], head: ChainHead | None) -> None:
    """Checkpoints in the order they were made grow by at most the cadence; the head agrees with them."""
    every, previous = settings.BASTION_AUDIT_CHECKPOINT_EVERY, 0
    for checkpoint in stored:
        size = checkpoint.tree_size
        if size <= previous:
            report.fail(size, f"checkpoint at tree size {size} was made after one at tree size {previous} "
                              "(tree sizes go backwards)")
        elif size - previous > every:
            report.fail(previous + every, f"sequence {previous + every}: no checkpoint covers it, the checkpoints at "
                                          f"tree sizes {previous} and {size} are more than {every} events apart "
                                          "(a checkpoint is missing)")
        previous = max(previous, size)
    if head is not None and head.checkpointed_size != previous:
        report.fail(min(previous, head.checkpointed_size) + 1,
                    f"the head records a checkpoint at tree size {head.checkpointed_size}, the checkpoints end at "
                    f"tree size {previous}")


def _cross_check(report: ChainReport, stored: list[Checkpoint], anchored: anchoring.Anchored | None,
                 keys: dict[str, bytes], now: datetime.datetime, description: str) -> list[_Signed]:
    """Compare the database's checkpoints with the anchored ones; what to check against the events."""
    window = datetime.timedelta(seconds=2 * settings.BASTION_AUDIT_CHECKPOINT_SECONDS)
    signed = {c.tree_size: _Signed(c.tree_size, body_of_checkpoint(c), c.signature, "") for c in stored}
    if anchored is None:
        return sorted(signed.values(), key=lambda c: c.tree_size)
    for size in sorted(anchored.conflicts):
        report.fail(size if size > 0 else None,
                    f"the anchor store holds {anchored.conflicts[size]} later record(s) differing from its checkpoint "
                    f"at tree size {size} (an overwrite was attempted)")
    for size, record in sorted(anchored.records.items()):
        body, signature = record.get("body"), record.get("signature")
        if not isinstance(body, dict) or not isinstance(signature, str) or body.get("chain") != report.chain_id:
            report.fail(size, f"the anchor store's checkpoint at tree size {size} is malformed")
            continue
        if problem := signature_problem(body, signature, keys):
            report.fail(size, f"the anchor store's checkpoint at tree size {size}: {problem}")
            continue
        mine = signed.get(size)
        if mine is None:
            report.fail(size, f"checkpoint at tree size {size} is in the anchor store but missing from the database "
                              "(checkpoint deleted)")
        elif mine.body != body or mine.signature != signature:
            report.fail(size, f"checkpoint at tree size {size} differs from the anchored one "
                              f"(database root {mine.body['root_hash'][:16]}…, anchored {str(body.get('root_hash'))[:16]}…)")
        signed[size] = _Signed(size, body, signature, " (anchored)")
    for checkpoint in stored:
        if checkpoint.tree_size not in anchored.records and _age(checkpoint.time, now) > window:
            report.fail(checkpoint.tree_size,
                        f"checkpoint at tree size {checkpoint.tree_size} was signed at {checkpoint.time} and is still "
                        f"not in the anchor store ({description})")
    return sorted(signed.values(), key=lambda c: c.tree_size)


def verify_chain(chain_id: str, *, progress: Callable[[int], object] | None = None,
                 clock: Clock = timezone.now, store: anchoring.AnchorStore | None = None) -> ChainReport:
    report = ChainReport(chain_id=chain_id)
    keys = signing.public_keys()
    now = clock()
    window = datetime.timedelta(seconds=2 * settings.BASTION_AUDIT_CHECKPOINT_SECONDS)
    anchored = None
    try:
        store = store or anchoring.store()
        anchored = store.read(chain_id)
    except anchoring.AnchorError as exc:
        report.fail(None, f"cannot read the anchor store: {exc}")
    with transaction.atomic():
        enter_chain(chain_id)
        head = ChainHead.objects.filter(chain_id=chain_id).first()
        stored = list(Checkpoint.objects.filter(chain_id=chain_id).order_by("id"))
        report.checkpoints = len(stored)
        pending = _cross_check(report, stored, anchored, keys, now, store.description if store else "")
        _check_sequence(report, stored, head)
        covered = pending[-1].tree_size if pending else 0
        first_unsigned_at = None
        frontier, prev, expected, intact = Frontier(), GENESIS_HASH, 1, True
        prefix = PrunedPrefix.objects.filter(chain_id=chain_id).order_by("-tree_size").first()
        if prefix is not None:
            try:
                frontier, prev = Frontier.from_json(prefix.frontier), bytes.fromhex(prefix.head_hash)
            except ValueError:
                frontier = Frontier()  # _check_start reports it
            expected = report.starts_after = prefix.tree_size
            expected += 1
            pending = _check_start(report, prefix, pending, frontier, keys)
        rows = _raw_rows(chain_id, expected)
        details, chain = _DetailsReader(chain_id), str(uuid.UUID(str(chain_id)))
        for row in rows:
            seq = row[2]
            try:
                digest = _follow(chain, row, expected, prev)
                details.check(seq, row[-1])
            except _Broken as broken:
                report.fail(broken.seq, broken.message)
                intact = False
                break
            frontier.append(digest)
            prev, expected = digest, expected + 1
            report.events += 1
            if seq == covered + 1:
                first_unsigned_at = row[4]
            while pending and pending[0].tree_size == seq:
                _check_checkpoint(report, pending.pop(0), frontier, keys)
            if progress and report.events % 1000 == 0:
                progress(report.events)
        if intact:
            _check_end(report, pending, head, expected - 1, prev)
            if first_unsigned_at is not None and now - first_unsigned_at > window:
                report.fail(covered + 1, f"sequence {covered + 1}: written {int((now - first_unsigned_at).total_seconds())}"
                                         f" s ago and not covered by a signed checkpoint (at most "
                                         f"{int(window.total_seconds())} s allowed)")
    if progress:
        progress(report.events)
    return report


def _check_start(report: ChainReport, prefix: PrunedPrefix, pending: list[_Signed], frontier: Frontier,
                 keys: dict[str, bytes]) -> list[_Signed]:
    """A pruned chain starts at the signed checkpoint it was pruned at: the recorded frontier must hash
    to that checkpoint's signed root. The checkpoints below it cannot be checked against events any more."""
    size = prefix.tree_size
    at = [c for c in pending if c.tree_size == size]
    if frontier.size != size:
        report.fail(size, f"the pruned prefix at tree size {size} records a frontier of {frontier.size} events")
    elif not at:
        report.fail(size, f"events up to {size} were pruned, but no signed checkpoint at tree size {size} remains")
    else:
        _check_checkpoint(report, at[0], frontier, keys)
    return [c for c in pending if c.tree_size > size]


class _DetailsReader:
    """The personal details kept outside the chain (format version 2), read in ranges of sequence
    numbers as the events stream past; each must match the digest its event hashed. Erased details
    are simply absent."""

    SPAN = 2000

    def __init__(self, chain_id: str) -> None:
        self.chain_id, self.until, self.rows = chain_id, 0, dict[int, list[PersonalDetails]]()

    def check(self, seq: int, digests: dict[str, str] | None) -> None:
        if seq > self.until:
            self.until = seq + self.SPAN
            self.rows = {}
            for row in PersonalDetails.objects.filter(chain_id=self.chain_id, seq__gte=seq, seq__lte=self.until):
                self.rows.setdefault(row.seq, []).append(row)
        kept = self.rows.get(seq)
        problem = personal.details_problem(seq, digests, kept) if kept else None
        if problem:
            raise _Broken(seq, problem)


class _Broken(Exception):
    def __init__(self, seq: int, message: str) -> None:
        super().__init__(message)
        self.seq, self.message = seq, message


# prev_hash, hash, then the body's columns (seq at 2, occurred_at at 4, personal last).
_ROW = ("prev_hash", "hash", *audit_chain.BODY_COLUMNS)
_TIME, _CHANGES, _PERSONAL = 4, len(_ROW) - 3, len(_ROW) - 1


def _raw_rows(chain_id: str, start: int) -> Iterator[tuple[Any, ...]]:
    """The chain's events from ``start`` on as tuples of ``_ROW``, streamed through a server-side
    cursor on PostgreSQL (a plain one on SQLite), without model objects or Django's per-row
    converters: the JSON columns are decoded here as ``JSONField.from_db_value`` decodes them (text
    that is not JSON stays text), and SQLite's timestamps as its backend converts them."""
    query = (AuditEvent.objects.filter(chain_id=chain_id, seq__gte=start).order_by("seq").values_list(*_ROW)).query
    sql, params = query.get_compiler(using=DEFAULT_DB_ALIAS).as_sql()
    convert_time = getattr(connection.ops, "convert_datetimefield_value", None)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while batch := cursor.fetchmany(2000):
            for raw in batch:
                row = list(raw)
                row[_CHANGES], row[_PERSONAL] = _json(row[_CHANGES]), _json(row[_PERSONAL])
                if convert_time is not None:
                    row[_TIME] = convert_time(row[_TIME], None, connection)
                yield tuple(row)


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _follow(chain: str, row: tuple[Any, ...], expected: int, prev: bytes) -> bytes:
    """The entry hash of the event in ``row``, when it continues the chain at ``expected`` after
    ``prev``; else ``_Broken``. The hash is ``format.entry_hash``, as in the offline verifier."""
    seq = row[2]
    if seq != expected:
        gap = "missing" if seq > expected else "duplicated or out of order"
        raise _Broken(expected, f"sequence {expected}: expected {expected}, found {seq} (events {gap})")
    if row[0] != prev.hex():
        raise _Broken(seq, f"sequence {seq}: does not follow the previous entry's hash")
    digest = entry_hash(prev, audit_chain.body_of_columns(chain, *row[2:]))
    if digest.hex() != row[1]:
        raise _Broken(seq, f"sequence {seq}: content does not match its hash (event altered)")
    return digest


def _check_end(report: ChainReport, pending: list[_Signed], head: ChainHead | None, last: int, prev: bytes) -> None:
    """An intact run of ``last`` events: no checkpoint beyond it, and the head agrees with it."""
    if pending:
        report.fail(last + 1, f"checkpoint at tree size {pending[0].tree_size}{pending[0].source} is beyond "
                              f"the last event {last} (events missing)")
    elif head is None and last:
        report.fail(None, "the chain has events but no head")
    elif head is not None and (head.seq != last or head.hash != prev.hex()):
        report.fail(last + 1, f"sequence {last + 1}: the head records {head.seq} events, found {last} (events missing)")


def _check_checkpoint(report: ChainReport, checkpoint: _Signed, frontier: Frontier, keys: dict[str, bytes]) -> None:
    label = f"checkpoint at tree size {checkpoint.tree_size}{checkpoint.source}"
    if frontier.root().hex() != checkpoint.body.get("root_hash"):
        report.fail(checkpoint.tree_size, f"{label}: root does not match the events")
    elif problem := signature_problem(checkpoint.body, checkpoint.signature, keys):
        report.fail(checkpoint.tree_size, f"{label}: {problem}")


def known_chains(organisation_ids: Iterable[uuid.UUID | str]) -> list[str]:
    """Every chain to verify: the platform's, every organisation's, and any chain with a head."""
    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        heads = {str(c) for c in ChainHead.objects.values_list("chain_id", flat=True)}
    return [PLATFORM_ID] + sorted((heads | {str(o) for o in organisation_ids}) - {PLATFORM_ID})


def record_result(report: ChainReport, run_id: uuid.UUID, started_at: datetime.datetime) -> None:
    """Store the outcome and append it as an event of the chain itself (the platform's when broken
    beyond use is not needed: a broken chain still takes new events, linked to its head)."""
    with transaction.atomic():
        enter_chain(report.chain_id)
        VerificationResult.objects.create(
            run_id=run_id, chain_id=report.chain_id, started_at=started_at, finished_at=timezone.now(), ok=report.ok,
            events=report.events, checkpoints=report.checkpoints, first_bad_seq=report.first_bad_seq,
            message=report.message[:500],
        )
        organisation_id = None if report.chain_id == PLATFORM_ID else report.chain_id
        action = AUDIT_VERIFICATION_PASSED if report.ok else AUDIT_VERIFICATION_FAILED
        audit_chain.record(action, organisation_id=organisation_id, resource_type="audit_chain",
                           resource_id=report.chain_id,
                           changes={"events": report.events, "checkpoints": report.checkpoints,
                                    "first_bad_seq": report.first_bad_seq, "message": report.message})
    if not report.ok:
        logger.error("audit chain %s is broken at sequence %s: %s", report.chain_id, report.first_bad_seq, report.message)
