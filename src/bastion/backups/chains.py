"""After every restore: verify every audit chain of the restored copy and compare it with the
anchored checkpoints. A restored chain that is a prefix of the anchored one is what a restore to an
earlier moment gives; the events beyond it are reported as data lost (the live chain's head when
the live database is there to ask, else the newest anchored checkpoint)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from bastion.audit import anchoring, verification
from bastion.audit.models import ChainHead


@dataclass(frozen=True)
class ChainCheck:
    chain_id: str
    ok: bool
    restored_events: int
    newest_known: int  # the live head, or the newest anchored tree size
    message: str = ""

    @property
    def events_lost(self) -> int:
        return max(0, self.newest_known - self.restored_events)


def _signed_after(record: dict[str, Any], moment: datetime.datetime) -> bool:
    try:
        return datetime.datetime.fromisoformat(str(record["body"]["time"])) > moment
    except (KeyError, TypeError, ValueError):
        return False  # a malformed record stays in: the verifier reports it


class _UpTo:
    """The anchor store, limited to checkpoints the restored chain is long enough to be checked against
    and that existed at the restore point. An anchored checkpoint signed after the restore point over
    events the copy holds is not in the copy's database, rightly: it is kept apart (``later``) and the
    copy's events are checked against it separately."""

    def __init__(self, store: anchoring.AnchorStore, sizes: dict[str, int], restore_point: datetime.datetime) -> None:
        self.store, self.sizes, self.restore_point = store, sizes, restore_point
        self.newest: dict[str, int] = {}
        self.later: dict[str, dict[int, dict[str, Any]]] = {}
        self.description = store.description

    def put(self, chain: str, record: dict[str, Any]) -> None:
        raise NotImplementedError("a restored copy's chains are checked against the anchors, never written to them")

    def read(self, chain: str) -> anchoring.Anchored:
        anchored = self.store.read(chain)
        self.newest[chain] = max(anchored.records, default=0)
        limited = anchoring.Anchored(conflicts=dict(anchored.conflicts))
        for size, record in anchored.records.items():
            if size > self.sizes.get(chain, 0):
                continue
            if _signed_after(record, self.restore_point):
                self.later.setdefault(chain, {})[size] = record
            else:
                limited.records[size] = record
        return limited


def _check_later(chain: str, records: dict[int, dict[str, Any]]) -> list[str]:
    """The copy's events (whose hashes the verifier has just checked) against checkpoints anchored
    after the restore point: same Merkle root, valid signature."""
    from bastion.audit import signing
    from bastion.audit.merkle import Frontier
    from bastion.audit.models import AuditEvent
    from bastion.audit.verification import signature_problem

    keys, problems, frontier = signing.public_keys(), [], Frontier()
    pending = sorted(records)
    hashes = (AuditEvent.objects.filter(chain_id=chain, seq__lte=pending[-1]).order_by("seq")
              .values_list("seq", "hash").iterator(chunk_size=2000))
    for seq, digest in hashes:
        frontier.append(bytes.fromhex(digest))
        while pending and pending[0] == seq:
            record = records[pending.pop(0)]
            body, signature = record.get("body") or {}, str(record.get("signature", ""))
            if frontier.root().hex() != body.get("root_hash"):
                problems.append(f"anchored checkpoint at tree size {seq}: root does not match the restored events")
            elif problem := signature_problem(body, signature, keys):
                problems.append(f"anchored checkpoint at tree size {seq}: {problem}")
    problems += [f"anchored checkpoint at tree size {size}: events missing from the copy" for size in pending]
    return problems


def live_heads(at: datetime.datetime | None = None) -> dict[str, int]:
    """Every chain's length in the live database (read before switching to the restored copy); with
    ``at``, its length as of that moment (the events that occurred up to it)."""
    from django.db import transaction
    from django.db.models import Max

    from bastion.audit.models import AuditEvent
    from bastion.db.rls import set_setting

    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        if at is None:
            return {str(chain): seq for chain, seq in ChainHead.objects.values_list("chain_id", "seq")}
        return {str(row["chain_id"]): row["seq"] for row in
                AuditEvent.objects.filter(occurred_at__lte=at).values("chain_id").annotate(seq=Max("seq"))}


def verify_restored(restore_point: datetime.datetime, live: dict[str, int] | None) -> list[ChainCheck]:
    """Run inside ``restored_database``: each chain of the restored copy, verified as of its restore point."""
    from django.db import transaction

    from bastion.db.rls import set_setting

    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        restored = {str(chain): seq for chain, seq in ChainHead.objects.values_list("chain_id", "seq")}
    store = _UpTo(anchoring.store(), restored, restore_point)
    checks = []
    for chain in verification.known_chains(restored):
        report = verification.verify_chain(chain, clock=lambda: restore_point, store=store)
        problems = [report.message] if not report.ok else _check_later(chain, store.later.get(chain, {})) if (
            store.later.get(chain)) else []
        newest = live.get(chain, 0) if live is not None else store.newest.get(chain, 0)
        checks.append(ChainCheck(chain, not problems, report.events, max(newest, report.events), "; ".join(problems)))
    return checks
