"""The PostgreSQL drill: ``pgbackrest check`` (it forces a WAL switch, so the moment asked for is
archived), a point-in-time restore of the newest backup into a scratch cluster on another port,
polled until out of recovery, checked (tables as at the source, audit chains against the anchored
checkpoints and nothing erased come back when it is Bastion's database), then stopped and removed.
RTO and RPO are measured and
stored like the SQLite drill's."""

from __future__ import annotations

import datetime
import tempfile
import time
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, failures, metrics, pg_backups, pg_cluster, restored_database
from bastion.backups.drills import Check, DrillResult, Progress, erasures_stay_erased
from bastion.backups.models import Drill
from bastion.backups.pgbackrest import PgBackRest, PgBackRestError, chown_postgres
from bastion.db.platform import PLATFORM_ID

TABLES = "SELECT schemaname || '.' || relname FROM pg_stat_user_tables ORDER BY 1"


def run(pgbackrest: PgBackRest, *, port: int, source_dsn: dict, target_time: datetime.datetime | None = None,
        database: str = "postgres", bastion_database: bool = False, scratch: Path | None = None,
        progress: Progress | None = None) -> DrillResult:
    """``source_dsn``: how to reach the live cluster (psycopg keywords), for its table list."""
    import psycopg

    progress = progress or (lambda message: None)
    started, started_at = time.monotonic(), timezone.now()
    drill = Drill.objects.create(started_at=started_at, target_time=target_time or started_at)
    result = DrillResult(str(drill.id), None, target_time or started_at, None, None, None)
    with tempfile.TemporaryDirectory(prefix="bastion-pg-drill-", dir=scratch) as work:
        Path(work).chmod(0o755)
        chown_postgres(Path(work))
        restored = None
        try:
            with psycopg.connect(**source_dsn, dbname=database, autocommit=True) as source:
                expected = [name for (name,) in source.execute(TABLES)]
            pgbackrest.check()
            restored = pg_backups.restore(pgbackrest, Path(work) / "data", port, target_time=target_time,
                                          database=database if bastion_database else None, progress=progress,
                                          replay_erasures=False)
            result.restored_time, result.events_lost = restored.restored_time, restored.events_lost
            result.checks.append(Check("restore", True, f"promoted on port {port}"))
            with restored.cluster.connect(database) as copy:
                found = [name for (name,) in copy.execute(TABLES)]
            missing = sorted(set(expected) - set(found))
            result.tables_checked = len(found)
            result.checks.append(Check("tables", not missing, f"missing: {', '.join(missing)}" if missing
                                       else f"{len(found)} tables as at the source"))
            if bastion_database:
                broken = [c for c in restored.chains if not c.ok]
                result.checks.append(Check("audit chains", not broken, "; ".join(c.message for c in broken)
                                           or f"{len(restored.chains)} chains intact, {restored.events_lost} events lost"))
                with restored_database.postgresql(host=str(restored.cluster.socket_dir), port=port, name=database):
                    result.checks.append(erasures_stay_erased(progress))
            result.rto_seconds = time.monotonic() - started
        except (PgBackRestError, pg_cluster.ClusterError, psycopg.Error) as exc:
            result.checks.append(Check("restore", False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        finally:
            if restored is not None:
                pg_cluster.stop(restored.cluster)
    if result.restored_time is None and result.ok:
        result.restored_time = result.target_time
    for check in result.checks:
        progress(f"{'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}")
    _store(drill, result)
    return result


def _store(drill: Drill, result: DrillResult) -> None:
    message = "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok)
    with transaction.atomic():
        Drill.objects.filter(pk=drill.pk).update(
            finished_at=timezone.now(), ok=result.ok, restored_time=result.restored_time,
            rto_seconds=result.rto_seconds, rpo_seconds=result.rpo_seconds, events_lost=result.events_lost,
            tables_checked=result.tables_checked, message=message[:2000])
        enter_chain(PLATFORM_ID)
        audit_chain.record(audit_actions.DRILL_COMPLETED if result.ok else audit_actions.DRILL_FAILED,
                           resource_type="backup_drill", resource_id=result.drill_id,
                           changes={"engine": "postgresql", "rto_seconds": result.rto_seconds,
                                    "rpo_seconds": result.rpo_seconds, "events_lost": result.events_lost,
                                    "failed_checks": [c.name for c in result.checks if not c.ok]})
    drill.refresh_from_db()
    metrics.record_drill(drill)
    if not result.ok:
        failures.drill_failed(result.drill_id, message)
