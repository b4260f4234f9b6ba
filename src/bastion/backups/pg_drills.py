"""The PostgreSQL drills, both point-in-time restores into a scratch cluster on another port,
polled until out of recovery, checked, then stopped and removed:

- the latest: the source's row counts per table and chain heads are read in one snapshot at the
  moment T the drill asks for; ``pgbackrest check`` (it forces a WAL switch, so T is archived); the
  copy restored to T must hold the same counts and chains;
- a random point in time between the oldest backup and now: its audit chains must hold exactly the
  events that had occurred by then (events lost are counted, RPO measured in real events).

Both verify every audit chain against the anchored checkpoints when it is Bastion's database, and
store RTO and RPO like the SQLite drill.
After the checks, the erasure ledger is replayed into the copy and nothing erased may have come back."""

from __future__ import annotations

import datetime
import math
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, environments, failures, metrics, pg_backups, pg_cluster, restored_database
from bastion.backups.drills import Check, DrillResult, Progress, erasures_stay_erased, random_moment
from bastion.backups.models import Backup, Drill
from bastion.backups.pgbackrest import PgBackRest, PgBackRestError, chown_postgres, parse_backup
from bastion.db.platform import PLATFORM_ID

# Tables whose rows survive a restore (unlogged and temporary ones do not), that this role may read.
TABLES = ("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_class c "
          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND c.relpersistence = 'p' "
          "AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%' "
          "AND has_table_privilege(c.oid, 'SELECT') ORDER BY 1")
CHAIN_HEADS = "SELECT chain_id::text, seq FROM audit_chainhead"
CHAIN_HEADS_AT = "SELECT chain_id::text, max(seq) FROM audit_auditevent WHERE occurred_at <= %s GROUP BY chain_id"


@dataclass
class SourceAt:
    """The source as at the moment the drill asks for: row counts just before and just after it (a
    table written in that instant may hold either), and each audit chain's length."""

    moment: datetime.datetime
    before: dict[str, int] = field(default_factory=dict)
    after: dict[str, int] = field(default_factory=dict)
    chains: dict[str, int] | None = None


def _counts(connection, tables: list[str]) -> dict[str, int]:
    return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}  # noqa: S608 — quote_ident'ed names from pg_class


def _scoped(connection) -> None:
    """A repeatable-read snapshot that sees every organisation's rows (row-level security's platform scope)."""
    connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
    connection.execute("SELECT set_config('bastion.scope', 'platform', true)")


def source_now(connect, *, bastion_database: bool) -> SourceAt:
    """Two snapshots a millisecond apart around the moment T (rounded up to pgBackRest's millisecond)."""
    with connect() as first, connect() as second:
        _scoped(first)
        moment = first.execute("SELECT clock_timestamp()").fetchone()[0]
        moment = moment.replace(microsecond=0) + datetime.timedelta(milliseconds=math.ceil(moment.microsecond / 1000))
        while datetime.datetime.now(datetime.UTC) <= moment:
            time.sleep(0.001)
        _scoped(second)
        second.execute("SELECT 1")  # takes the second snapshot, after T
        tables = [name for (name,) in first.execute(TABLES)]
        source = SourceAt(moment, _counts(first, tables), _counts(second, tables))
        if bastion_database:
            source.chains = {chain: seq for chain, seq in first.execute(CHAIN_HEADS)}
        first.execute("COMMIT")
        second.execute("COMMIT")
    return source


def source_at(connect, moment: datetime.datetime, *, bastion_database: bool) -> SourceAt:
    source = SourceAt(moment)
    if bastion_database:
        with connect() as connection:
            _scoped(connection)
            source.chains = {chain: seq for chain, seq in connection.execute(CHAIN_HEADS_AT, [moment])}
            connection.execute("COMMIT")
    return source


def _row_counts(source: SourceAt, restored: dict[str, int]) -> Check:
    differing, written = [], 0
    for table in sorted(source.before):
        low, high = sorted((source.before[table], source.after[table]))
        written += low != high
        if not low <= restored.get(table, -1) <= high:
            differing.append(f"{table}: {source.before[table]} at the source, {restored.get(table, 'no table')} restored")
    detail = "; ".join(differing[:5]) or (f"{len(source.before)} tables equal to the source at "
                                          f"{source.moment.isoformat()}" + (f" ({written} written in that instant)"
                                                                             if written else ""))
    return Check("row counts", not differing, detail)


def oldest_restorable(pgbackrest: PgBackRest, repo: int) -> datetime.datetime:
    """One second after the oldest backup's stop: pgBackRest records stop times in whole seconds and
    wants a backup that stopped strictly before the target's second ("unable to find backup set with
    stop time less than …" for a target inside that same second)."""
    stops = [parse_backup(entry).stopped for entry in pgbackrest.backups(repo)]
    if not stops:
        raise PgBackRestError(f"no backup in repo{repo} to restore")
    return min(stops) + datetime.timedelta(seconds=1)


def run(pgbackrest: PgBackRest, *, port: int, source_dsn: dict, database: str = "postgres",
        bastion_database: bool = False, point_in_time: bool = False, rng: random.Random | None = None,
        repo: int = 1, scratch: Path | None = None, progress: Progress | None = None) -> DrillResult:
    """``source_dsn``: how to reach the live cluster (psycopg keywords). ``point_in_time``: a random
    moment between the oldest backup in ``repo`` and now instead of now."""
    import psycopg

    def connect() -> psycopg.Connection:
        return psycopg.connect(**source_dsn, dbname=database, autocommit=True)

    progress = progress or (lambda message: None)
    started, started_at = time.monotonic(), timezone.now()
    drill = Drill.objects.create(started_at=started_at, target_time=started_at)
    result = DrillResult(str(drill.id), None, started_at, None, None, None, point_in_time=point_in_time)
    with tempfile.TemporaryDirectory(prefix="bastion-pg-drill-", dir=scratch) as work:
        Path(work).chmod(0o755)
        chown_postgres(Path(work))
        restored = None
        try:
            if point_in_time:
                moment = random_moment(oldest_restorable(pgbackrest, repo), started_at, rng)
                source = source_at(connect, moment, bastion_database=bastion_database)
            else:
                source = source_now(connect, bastion_database=bastion_database)
            result.target_time = source.moment
            progress(f"{'point-in-time' if point_in_time else 'latest'} drill to {source.moment.isoformat()}")
            with connect() as nudge:  # a commit after T, so that recovery sees T pass
                nudge.execute("SELECT txid_current()")
            pgbackrest.check()
            restored = pg_backups.restore(pgbackrest, Path(work) / "data", port, target_time=source.moment, repo=repo,
                                          database=database if bastion_database else None, live=source.chains,
                                          progress=progress, replay_erasures=False)
            result.restored_time, result.events_lost = restored.restored_time, restored.events_lost
            result.checks.append(Check("restore", True, f"promoted on port {port}"))
            with restored.cluster.connect(database) as copy:
                tables = [name for (name,) in copy.execute(TABLES)]
                counts = _counts(copy, tables)
            result.tables_checked = len(counts)
            if point_in_time:
                result.checks.append(Check("tables", bool(counts), f"{len(counts)} tables restored"))
            else:
                result.checks.append(_row_counts(source, counts))
            if bastion_database:
                broken = [c for c in restored.chains if not c.ok]
                result.checks.append(Check("audit chains", not broken, "; ".join(c.message for c in broken)
                                           or f"{len(restored.chains)} chains intact, {restored.events_lost} events lost"))
                with restored_database.postgresql(host=str(restored.cluster.socket_dir), port=port, name=database):
                    result.checks.append(erasures_stay_erased(progress))
            result.rto_seconds = time.monotonic() - started
        except (PgBackRestError, pg_cluster.ClusterError, psycopg.Error, environments.NotAnonymised) as exc:
            result.checks.append(Check("restore", False, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
        finally:
            if restored is not None:
                pg_cluster.stop(restored.cluster)
    if result.restored_time is None and result.ok:
        result.restored_time = result.target_time
    base = (Backup.objects.filter(engine="postgresql", status="ok", repository=pg_backups.REPOSITORIES.get(repo, ""),
                                  restore_point__lte=result.target_time).order_by("-restore_point").first())
    result.backup_id = str(base.id) if base else None  # the backup the restore started from
    for check in result.checks:
        progress(f"{'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}")
    _store(drill, result)
    return result


def live_source() -> dict:
    """How to reach Bastion's own database (psycopg keywords), as the application connects."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    return {"host": database["HOST"] or None, "port": database["PORT"] or 5432, "user": database["USER"],
            "password": database["PASSWORD"] or None}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_configured(*, progress: Progress | None = None) -> list[DrillResult]:
    """The weekly drills of Bastion's database with the configured pgBackRest: the latest moment, then
    a random point in time between the oldest backup and now."""
    from django.conf import settings

    pgbackrest = pg_backups.configured()
    return [run(pgbackrest, port=free_port(), source_dsn=live_source(), database=settings.DATABASES["default"]["NAME"],
                bastion_database=True, point_in_time=point_in_time, progress=progress)
            for point_in_time in (False, True)]


def _store(drill: Drill, result: DrillResult) -> None:
    message = "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok)
    with transaction.atomic():
        Drill.objects.filter(pk=drill.pk).update(
            backup_id=result.backup_id, finished_at=timezone.now(), ok=result.ok, target_time=result.target_time,
            restored_time=result.restored_time, rto_seconds=result.rto_seconds, rpo_seconds=result.rpo_seconds,
            events_lost=result.events_lost, tables_checked=result.tables_checked, message=message[:2000])
        if result.ok and result.backup_id:
            Backup.objects.filter(pk=result.backup_id).update(proven_by_drill=drill)
        enter_chain(PLATFORM_ID)
        audit_chain.record(audit_actions.DRILL_COMPLETED if result.ok else audit_actions.DRILL_FAILED,
                           resource_type="backup_drill", resource_id=result.drill_id,
                           changes={"engine": "postgresql", "backup": result.backup_id, "point_in_time": result.point_in_time,
                                    "target_time": result.target_time.isoformat(),
                                    "rto_seconds": result.rto_seconds, "rpo_seconds": result.rpo_seconds,
                                    "events_lost": result.events_lost,
                                    "failed_checks": [c.name for c in result.checks if not c.ok]})
    drill.refresh_from_db()
    metrics.record_drill(drill)
    if not result.ok:
        failures.drill_failed(result.drill_id, message)
