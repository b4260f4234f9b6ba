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


class _UpTo:
    """The anchor store, limited to checkpoints the restored chain is long enough to be checked against."""

    def __init__(self, store: anchoring.AnchorStore, sizes: dict[str, int]) -> None:
        self.store, self.sizes = store, sizes
        self.newest: dict[str, int] = {}
        self.description = store.description

    def put(self, chain: str, record: dict[str, Any]) -> None:
        raise NotImplementedError("a restored copy's chains are checked against the anchors, never written to them")

    def read(self, chain: str) -> anchoring.Anchored:
        anchored = self.store.read(chain)
        self.newest[chain] = max(anchored.records, default=0)
        limited = anchoring.Anchored(conflicts=dict(anchored.conflicts))
        limited.records = {size: record for size, record in anchored.records.items() if size <= self.sizes.get(chain, 0)}
        return limited


def live_heads() -> dict[str, int]:
    """Every chain's length in the live database (read before switching to the restored copy)."""
    from django.db import transaction

    from bastion.db.rls import set_setting

    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        return {str(chain): seq for chain, seq in ChainHead.objects.values_list("chain_id", "seq")}


def verify_restored(restore_point: datetime.datetime, live: dict[str, int] | None) -> list[ChainCheck]:
    """Run inside ``restored_database``: each chain of the restored copy, verified as of its restore point."""
    from django.db import transaction

    from bastion.db.rls import set_setting

    with transaction.atomic():
        set_setting("bastion.scope", "platform")
        restored = {str(chain): seq for chain, seq in ChainHead.objects.values_list("chain_id", "seq")}
    store = _UpTo(anchoring.store(), restored)
    checks = []
    for chain in verification.known_chains(restored):
        report = verification.verify_chain(chain, clock=lambda: restore_point, store=store)
        newest = (live or {}).get(chain, store.newest.get(chain, 0))
        checks.append(ChainCheck(chain, report.ok, report.events, max(newest, report.events), report.message))
    return checks
