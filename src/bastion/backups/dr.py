"""``bastion dr drill``: the DR region is a streaming replica (``BASTION_DR_STANDBY_URL``) plus the
offsite backup repository. The drill never touches the standby's own replication, nor the primary:

1. at the moment T, the primary's current WAL position and every audit chain's length are read in
   one snapshot, and the standby's replayed position;
2. a copy of the standby is taken with ``pg_basebackup`` over a replication connection to it (online
   and consistent, with the WAL it needs streamed alongside, the standby keeps replicating; a
   file copy of a running data directory would need ``pg_backup_start`` on the standby and
   access to its disk, which the DR region does not give the primary's operators);
3. the copy is started as a standby with no upstream (``primary_conninfo=''``), on a port of its
   own, its replayed position read, then promoted (``pg_ctl promote``) as a failover would;
4. ``bastion serve`` is started on the copy and polled until ``/healthz`` answers: RTO is start →
   serving; every audit chain of the copy is verified against the anchored checkpoints and the events
   the copy lacks (the primary's heads at T − the copy's) are the data lost;
5. the server and the copy are stopped and removed; the drill is stored like backup drills (a
   ``Drill`` of kind ``dr``, an audit event, the metrics).

Data lost: WAL bytes (primary at T − the copy's replayed position), audit events, and RPO seconds
(0 when the copy holds all WAL written by T, else T − the copy's newest replayed transaction).
The drill fails when RPO exceeds ``BASTION_DR_RPO_TARGET_SECONDS`` (default 300) — the figures
are stored either way."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import (
    audit_actions,
    chains,
    dr_offsite,
    failures,
    metrics,
    pg_backups,
    pg_cluster,
    restored_database,
)
from bastion.backups.drills import Check, DrillResult, Progress
from bastion.backups.models import Drill
from bastion.backups.pg_drills import CHAIN_HEADS, free_port, live_source
from bastion.backups.pgbackrest import as_postgres, chown_postgres
from bastion.db.platform import PLATFORM_ID

DEFAULT_RPO_TARGET = 300.0
NO_UPSTREAM = "-c primary_conninfo='' -c primary_slot_name='' -c restore_command=''"


class NotConfigured(Exception):
    pass


@dataclass
class DrResult(DrillResult):
    wal_bytes_lost: int | None = None
    rpo_target_seconds: float = DEFAULT_RPO_TARGET


@dataclass
class Config:
    standby_url: str
    rpo_target_seconds: float
    offsite_max_age_hours: float = dr_offsite.DEFAULT_MAX_AGE_HOURS


def configured() -> Config:
    from django.db import connections

    if connections["default"].vendor != "postgresql":
        raise NotConfigured("the DR drill is for PostgreSQL (a streaming replica in the DR region)")
    url = os.environ.get("BASTION_DR_STANDBY_URL", "").strip()
    if not url:
        raise NotConfigured(
            "set BASTION_DR_STANDBY_URL to the standby (a libpq URL of a role allowed to replicate, "
            "e.g. postgres://replicator@standby.dr:5432/postgres): see docs/backups.md"
        )
    raw = os.environ.get("BASTION_DR_RPO_TARGET_SECONDS", "").strip() or str(DEFAULT_RPO_TARGET)
    try:
        target = float(raw)
    except ValueError:
        target = -1.0
    if not 0 <= target < float("inf"):
        raise NotConfigured(f"BASTION_DR_RPO_TARGET_SECONDS={raw!r}: give a number of seconds ≥ 0")
    try:
        offsite_bound = dr_offsite.max_age_hours()
    except ValueError as exc:
        raise NotConfigured(str(exc)) from exc
    return Config(url, target, offsite_bound)


def _row(cursor) -> tuple:
    row = cursor.fetchone()  # a SELECT without FROM always has its row
    if row is None:
        raise pg_cluster.ClusterError("no row")
    return tuple(row)


def _at_moment(database: str, standby_url: str) -> tuple:
    """The primary's moment, WAL position and chain heads in one snapshot; then the standby's position."""
    import psycopg

    with psycopg.connect(**live_source(), dbname=database, autocommit=True) as primary:
        primary.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        primary.execute("SELECT set_config('bastion.scope', 'platform', true)")
        moment, lsn = _row(primary.execute("SELECT clock_timestamp(), pg_current_wal_lsn()::text"))
        heads = {chain: seq for chain, seq in primary.execute(CHAIN_HEADS)}
        primary.execute("COMMIT")
    with psycopg.connect(standby_url, autocommit=True, connect_timeout=10) as standby:
        in_recovery, replayed, last_xact = _row(
            standby.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()"
            )
        )
    return moment, str(lsn), heads, bool(in_recovery), replayed, last_xact


def _copy_standby(standby_url: str, data_dir: Path, progress: Progress) -> None:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    progress("copying the standby with pg_basebackup")
    # The password goes in the environment, not on the command line where any local user reads it.
    params = conninfo_to_dict(standby_url)
    password = params.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": str(password)} if password else {})}
    done = subprocess.run(
        as_postgres(
            [
                str(pg_cluster.PG_BIN / "pg_basebackup"),
                "-d",
                make_conninfo("", **params),
                "-D",
                str(data_dir),
                "-X",
                "stream",
                "-c",
                "fast",
                "--no-sync",
            ]
        ),
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )
    if done.returncode:
        raise pg_cluster.ClusterError(f"pg_basebackup from the standby failed: {(done.stderr or done.stdout).strip()}")
    (data_dir / "standby.signal").touch()
    chown_postgres(data_dir / "standby.signal")


def _server_env(socket_dir: Path, port: int, database: str, work: Path) -> dict:
    source = live_source()
    user = quote(source["user"] or "postgres", safe="")
    password = f":{quote(source['password'], safe='')}" if source.get("password") else ""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_ADMIN_URL", "REDIS_URL")}
    env.update(
        {
            "DATABASE_URL": f"postgres://{user}{password}@{quote(str(socket_dir), safe='')}:{port}/{database}",
            "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        }
    )
    (work / "metrics").mkdir(exist_ok=True)
    return env


def _serve(env: dict, work: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    log = open(work / "serve.log", "wb")  # noqa: SIM115 — kept open for the server's lifetime
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bastion.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-jobs",
            "--workers",
            "1",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return server, port


def _wait_serving(server: subprocess.Popen, port: int, work: Path, timeout: float = 180) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = (work / "serve.log").read_text(errors="replace").strip().splitlines()[-3:]
            raise pg_cluster.ClusterError(f"bastion serve on the promoted copy exited {server.returncode}: {tail}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return f"bastion serve answered /healthz on 127.0.0.1:{port}"
        time.sleep(0.2)
    raise pg_cluster.ClusterError(f"bastion serve on the promoted copy did not answer /healthz in {timeout:.0f} s")


def run(config: Config, *, database: str, progress: Progress | None = None, scratch: Path | None = None) -> DrResult:
    import psycopg

    progress = progress or (lambda message: None)
    started, started_at = time.monotonic(), timezone.now()
    drill = Drill.objects.create(kind="dr", started_at=started_at, target_time=started_at)
    result = DrResult(str(drill.id), None, started_at, None, None, None, rpo_target_seconds=config.rpo_target_seconds)
    copy, server = None, None
    with tempfile.TemporaryDirectory(prefix="bastion-dr-drill-", dir=scratch) as work_name:
        work = Path(work_name)
        work.chmod(0o755)
        chown_postgres(work)
        try:
            moment, primary_lsn, heads, in_recovery, standby_lsn, standby_xact = _at_moment(
                database, config.standby_url
            )
            result.target_time = moment
            result.checks.append(
                Check(
                    "standby",
                    in_recovery,
                    f"streaming replica at {standby_lsn}, primary at {primary_lsn}"
                    if in_recovery
                    else "BASTION_DR_STANDBY_URL is not a standby",
                )
            )
            if not in_recovery:
                raise pg_cluster.ClusterError("BASTION_DR_STANDBY_URL is not a standby (not in recovery)")
            _copy_standby(config.standby_url, work / "data", progress)
            port = free_port()
            copy = pg_cluster.start(work / "data", port, options=NO_UPSTREAM)
            with copy.connect() as connection:
                copied_lsn, last_xact = _row(
                    connection.execute("SELECT pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp()")
                )
                (lost,) = _row(connection.execute("SELECT pg_wal_lsn_diff(%s, %s)", [primary_lsn, copied_lsn]))
            result.wal_bytes_lost = max(0, int(lost))
            # The copy holds at least what the standby had replayed at T: its newest transaction is the later of the two.
            newest = max((t for t in (last_xact, standby_xact) if t is not None), default=None)
            result.restored_time = moment if result.wal_bytes_lost == 0 else newest and min(moment, newest)
            progress(f"copy of the standby replayed to {copied_lsn}; promoting it on port {port}")
            done = subprocess.run(
                as_postgres([str(pg_cluster.PG_BIN / "pg_ctl"), "-D", str(copy.data_dir), "-w", "promote"]),
                capture_output=True,
                text=True,
                timeout=120,
            )
            if done.returncode:
                raise pg_cluster.ClusterError(f"pg_ctl promote failed: {(done.stderr or done.stdout).strip()}")
            pg_cluster.wait_until_promoted(copy, timeout=120)
            result.checks.append(Check("promotion", True, f"copy of the standby promoted on port {port}"))
            server, web_port = _serve(_server_env(copy.socket_dir, port, database, work), work)
            result.checks.append(Check("serving", True, _wait_serving(server, web_port, work)))
            result.rto_seconds = time.monotonic() - started
            with restored_database.postgresql(host=str(copy.socket_dir), port=port, name=database):
                checked = chains.verify_restored(moment, heads)
            broken = [c for c in checked if not c.ok]
            result.events_lost = sum(c.events_lost for c in checked)
            result.checks.append(
                Check(
                    "audit chains",
                    not broken,
                    "; ".join(f"{c.chain_id}: {c.message}" for c in broken)
                    or f"{len(checked)} chains intact, {result.events_lost} events lost",
                )
            )
            rpo = result.rpo_seconds
            result.checks.append(
                Check(
                    "RPO target",
                    rpo is not None and rpo <= config.rpo_target_seconds,
                    f"{'unknown' if rpo is None else f'{rpo:.2f} s'} of data lost "
                    f"({result.wal_bytes_lost} WAL bytes), target {config.rpo_target_seconds:g} s",
                )
            )
        except (pg_cluster.ClusterError, psycopg.Error, subprocess.TimeoutExpired, OSError) as exc:
            result.checks.append(
                Check("failover", False, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            )
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait(timeout=10)
            if copy is not None:
                pg_cluster.stop(copy)
    _check_offsite(config, result, progress)
    for check in result.checks:
        progress(f"{'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}")
    _store(drill, result)
    return result


def _check_offsite(config: Config, result: DrResult, progress: Progress) -> None:
    """The other half of the DR region: the newest backup in the offsite repository, and its age."""
    from django.conf import settings

    if not settings.BASTION_PGBACKREST_CONFIG:
        progress("offsite backup: not checked (BASTION_PGBACKREST_CONFIG is not set: no pgBackRest repositories)")
        return
    result.checks.append(dr_offsite.check(pg_backups.configured(), config.offsite_max_age_hours, timezone.now()))


def run_configured(*, progress: Progress | None = None) -> DrResult:
    from django.conf import settings

    return run(configured(), database=settings.DATABASES["default"]["NAME"], progress=progress)


def _store(drill: Drill, result: DrResult) -> None:
    message = "; ".join(f"{c.name}: {c.detail}" for c in result.checks if not c.ok)
    with transaction.atomic():
        Drill.objects.filter(pk=drill.pk).update(
            finished_at=timezone.now(),
            ok=result.ok,
            target_time=result.target_time,
            restored_time=result.restored_time,
            rto_seconds=result.rto_seconds,
            rpo_seconds=result.rpo_seconds,
            events_lost=result.events_lost,
            message=message[:2000],
        )
        enter_chain(PLATFORM_ID)
        audit_chain.record(
            audit_actions.DR_DRILL_COMPLETED if result.ok else audit_actions.DR_DRILL_FAILED,
            resource_type="backup_drill",
            resource_id=result.drill_id,
            changes={
                "kind": "dr",
                "target_time": result.target_time.isoformat(),
                "rto_seconds": result.rto_seconds,
                "rpo_seconds": result.rpo_seconds,
                "rpo_target_seconds": result.rpo_target_seconds,
                "wal_bytes_lost": result.wal_bytes_lost,
                "events_lost": result.events_lost,
                "failed_checks": [c.name for c in result.checks if not c.ok],
            },
        )
    drill.refresh_from_db()
    metrics.record_dr_drill(drill)
    if not result.ok:
        failures.drill_failed(result.drill_id, message)
