"""``bastion backup drill`` (weekly, and by hand): restore the newest backup into a scratch place,
check its migrations, verify every audit chain against the anchored checkpoints, compare row counts
per table with the source at the backup's moment, open a sample of encrypted fields and evidence
files, check that nothing erased since came back (the erasure ledger replayed into it), then tear
it down. It stores what it measured — RTO (start → restored, verified and serving)
and RPO (the moment asked for − the newest restorable transaction) — appends an audit event, sets
the metrics, and alerts on failure."""

from __future__ import annotations

import datetime
import random
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, chains, failures, metrics, restore, restored_database, samples, snapshots
from bastion.backups.models import Backup, Drill
from bastion.db.platform import PLATFORM_ID
from bastion.privacy import ledger
from bastion.tenancy.organisations import slugs_by_id

Progress = Callable[[str], object]  # what it returns is ignored


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class DrillResult:
    drill_id: str
    backup_id: str | None
    target_time: datetime.datetime
    restored_time: datetime.datetime | None
    rto_seconds: float | None
    events_lost: int | None
    checks: list[Check] = field(default_factory=list)
    tables_checked: int = 0
    point_in_time: bool = False  # a random moment inside the window rather than the newest backup

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    @property
    def rpo_seconds(self) -> float | None:
        if self.restored_time is None:
            return None
        return max(0.0, (self.target_time - self.restored_time).total_seconds())


def _pending_migrations() -> list[str]:
    connection = connections["default"]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def _row_counts_match(database: Path, expected: dict[str, int]) -> Check:
    actual = snapshots.row_counts(database)
    differing = [f"{table}: {expected.get(table)} at the source, {actual.get(table)} restored"
                 for table in sorted(set(expected) | set(actual)) if expected.get(table) != actual.get(table)]
    if not expected:
        return Check("row counts", False, "the backup's manifest records no row counts")
    return Check("row counts", not differing, "; ".join(differing[:5]) or f"{len(actual)} tables equal to the source")


def erasures_stay_erased(progress: Progress) -> Check:
    """On the restored copy, after the other checks: the erasure ledger replayed into it, then every
    person and organisation it names looked up."""
    replayed = ledger.replay(progress=progress)
    if not replayed.ok:
        return Check("erasures", False, replayed.summary())
    try:
        back = ledger.came_back()
    except ledger.LedgerError as exc:
        return Check("erasures", False, str(exc))
    return Check("erasures", not back, f"came back: {', '.join(back[:5])}" if back else
                 f"nothing erased came back ({replayed.summary()})")


def _serving(database: Path) -> Check:
    """The copy answers queries as an application database would (opened read-write, integrity checked)."""
    with sqlite3.connect(database) as db:
        verdict = db.execute("PRAGMA quick_check").fetchone()[0]
    return Check("serving", verdict == "ok", verdict)


def random_moment(oldest: datetime.datetime, now: datetime.datetime, rng: random.Random | None = None) -> datetime.datetime:
    """A moment drawn uniformly between the oldest restorable moment of the window and now."""
    span = max(0.0, (now - oldest).total_seconds())
    return oldest + datetime.timedelta(seconds=(rng or random.SystemRandom()).uniform(0, span))


def _point_in_time(now: datetime.datetime, rng: random.Random | None) -> tuple[datetime.datetime, str]:
    """A random moment inside the retention window, and the snapshot that restores it (the newest
    taken at or before it)."""
    window = snapshots.manifests_within(now - datetime.timedelta(days=settings.BASTION_BACKUP_KEEP_DAYS))
    if not window:
        raise restore.RestoreRefused("no backup inside the retention window")
    moments = [(datetime.datetime.fromisoformat(m["restore_point"]), m["id"]) for _, m in window]
    target = random_moment(moments[0][0], now, rng)
    return target, max((m for m in moments if m[0] <= target), key=lambda m: m[0])[1]


def run(*, backup_id: str | None = None, point_in_time: bool = False, rng: random.Random | None = None,
        progress: Progress | None = None, scratch: Path | None = None) -> DrillResult:
    """The newest backup (or ``backup_id``) as of now; with ``point_in_time``, a random moment inside
    the retention window restored from the snapshot taken at or before it (RPO: that moment − the
    snapshot's; the events lost: those that occurred up to that moment and are not in the copy)."""
    progress = progress or (lambda message: None)
    started, started_at = time.monotonic(), timezone.now()
    target_time, live = started_at, None
    if point_in_time and backup_id is None:
        try:
            target_time, backup_id = _point_in_time(started_at, rng)
        except restore.RestoreRefused:
            pass  # the restore below reports that there is nothing to restore
        live = chains.live_heads(at=target_time)
        progress(f"point-in-time drill: {target_time.isoformat()} (backup {backup_id})")
    drill = Drill.objects.create(started_at=started_at, target_time=target_time)
    result = DrillResult(str(drill.id), backup_id, target_time, None, None, None, point_in_time=point_in_time)
    live_organisations = set(slugs_by_id())
    with tempfile.TemporaryDirectory(prefix="bastion-drill-", dir=scratch) as work:
        place = Path(work) / "restored"
        try:
            restored = restore.restore(place, backup_id=backup_id, progress=progress, record=False, live=live,
                                       replay_erasures=False)
        except (restore.RestoreRefused, restore.RestoreFailed) as exc:
            result.checks.append(Check("restore", False, str(exc)))
            restored = None
        if restored is not None:
            result.backup_id, result.restored_time = restored.backup_id, restored.restore_point
            result.events_lost = restored.events_lost
            result.checks.append(Check("restore", True, f"backup {restored.backup_id} from {restored.repository}"))
            broken = [c for c in restored.chains if not c.ok]
            result.checks.append(Check("audit chains", not broken,
                                       "; ".join(f"{c.chain_id}: {c.message}" for c in broken)
                                       or f"{len(restored.chains)} chains intact, {restored.events_lost} events lost"))
            result.checks.append(_row_counts_match(restored.database, restored.details["row_counts"]))
            result.tables_checked = len(restored.details["row_counts"])
            with restored_database.sqlite(restored.database):
                pending = _pending_migrations()
                result.checks.append(Check("migrations", not pending,
                                           f"unapplied: {', '.join(pending)}" if pending else "none unapplied"))
                objects = place / snapshots.OBJECTS_MEMBER
                sample = samples.open_sample(live_organisations, objects if objects.is_dir() else None)
                erasures = erasures_stay_erased(progress)
            result.checks.append(Check("encrypted sample", sample.ok and sample.opened > 0,
                                       "; ".join(sample.failures[:3]) or
                                       f"{sample.opened} opened, {sample.shredded} shredded (organisation deleted)"))
            result.checks.append(erasures)
            result.checks.append(_serving(restored.database))
            result.rto_seconds = time.monotonic() - started
        for check in result.checks:
            progress(f"{'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}")
    _store(drill, result)
    return result


def _store(drill: Drill, result: DrillResult) -> None:
    message = "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok)
    with transaction.atomic():
        Drill.objects.filter(pk=drill.pk).update(
            backup_id=(result.backup_id if result.backup_id is not None
                       and Backup.objects.filter(pk=result.backup_id).exists() else None),
            finished_at=timezone.now(), ok=result.ok, restored_time=result.restored_time,
            rto_seconds=result.rto_seconds, rpo_seconds=result.rpo_seconds, events_lost=result.events_lost,
            tables_checked=result.tables_checked, message=message[:2000])
        if result.ok and result.backup_id:
            Backup.objects.filter(pk=result.backup_id).update(proven_by_drill=drill)
        enter_chain(PLATFORM_ID)
        audit_chain.record(audit_actions.DRILL_COMPLETED if result.ok else audit_actions.DRILL_FAILED,
                           resource_type="backup_drill", resource_id=result.drill_id,
                           changes={"backup": result.backup_id, "rto_seconds": result.rto_seconds,
                                    "rpo_seconds": result.rpo_seconds, "events_lost": result.events_lost,
                                    "failed_checks": [c.name for c in result.checks if not c.ok]})
    drill.refresh_from_db()
    metrics.record_drill(drill)
    if not result.ok:
        failures.drill_failed(result.drill_id, message)
