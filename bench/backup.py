"""Backups under a steady write load (issue 16), on the embedded SQLite database or on PostgreSQL:

    uv run python bench/backup.py --megabytes 1024              # the issue's figure (1 GB), SQLite
    uv run python bench/backup.py --megabytes 200               # quicker
    uv run python bench/backup.py --postgres --megabytes 1024   # PostgreSQL with pgBackRest (as root)

With ``--postgres``: a cluster of the bench's own (initdb as postgres, its own port, as the tests
make), pgBackRest set up by ``bastion backup setup``'s service (a local encrypted repository), a full
backup against the baseline of ``pg_basebackup`` (a plain physical copy) in the same run, then the
latest drill (row counts and audit chains as at its moment) and a random point-in-time drill.

A generated database of ``--megabytes`` (demo data plus a bulk table), one thread writing an audited
change every ``--interval`` seconds throughout, then: backup duration (``snapshots.take``: snapshot,
archive, encrypt, write) against the baseline of copying the database file in the same run (ratio),
and a drill: RTO (start → restored, verified and serving) and RPO (the drill's moment − the newest
restorable transaction), with the audit events the restore lost. Goal: RTO ≤ 300 s, RPO ≤ 60 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("BASTION_DATA_DIR", tempfile.mkdtemp(prefix="bastion-bench-backup-"))
os.environ.pop("DATABASE_URL", None)
os.environ.pop("DATABASE_ADMIN_URL", None)
import _setup  # noqa: E402,F401  (paths and settings module)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between audited writes")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL with pgBackRest instead of SQLite")
    args = parser.parse_args()
    if args.postgres:
        postgres(args)
        return

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from bastion import demo
    from bastion.audit.context import SYSTEM, acting_as
    from bastion.backups import drills, snapshots
    from bastion.tenancy import actions, context
    from bastion.tenancy.models import Organisation

    data_dir = Path(os.environ["BASTION_DATA_DIR"])
    call_command("migrate", verbosity=0)
    with acting_as(SYSTEM):
        demo.create("bench password 1234")
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE bulk_filler (id INTEGER PRIMARY KEY, payload BLOB)")
        for _ in range(args.megabytes * 16):
            cursor.execute("INSERT INTO bulk_filler (payload) VALUES (randomblob(65536))")
    database = data_dir / "bastion.sqlite3"
    print(f"generated {database.stat().st_size / 2**20:.0f} MiB in {time.monotonic() - started:.1f} s")

    stop, writes = threading.Event(), [0]

    def writer() -> None:
        organisation = Organisation.objects.get(slug="acme")
        with acting_as(SYSTEM):
            while not stop.is_set():
                with context.tenant_context(organisation.id):
                    actions.create_workspace(organisation, name=f"load {writes[0]}")
                writes[0] += 1
                time.sleep(args.interval)
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(2)
        baseline_started = time.monotonic()
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copyfile(database, Path(scratch) / "copy.sqlite3")
        baseline = time.monotonic() - baseline_started
        with acting_as(SYSTEM):
            backup = snapshots.take()
        assert backup.ok, backup.copies
        time.sleep(2)
        with acting_as(SYSTEM):
            drill = drills.run()
    finally:
        stop.set()
        thread.join()
    print(f"writes during the run: {writes[0]} audited changes, one every {args.interval} s")
    print(f"backup: {backup.seconds:.1f} s for {backup.archive_bytes / 2**20:.0f} MiB archived "
          f"(baseline: plain file copy {baseline:.1f} s; ratio {backup.seconds / baseline:.1f}x)")
    print(f"drill {'passed' if drill.ok else 'FAILED'}: RTO {drill.rto_seconds:.1f} s (goal <= 300), "
          f"RPO {drill.rpo_seconds:.1f} s (goal <= 60), {drill.events_lost} audit events beyond the restore point")
    for check in drill.checks:
        print(f"  {'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}")
    shutil.rmtree(data_dir, ignore_errors=True)


def _writer(interval: float, stop: threading.Event, writes: list[int]) -> None:
    from django.db import connection

    from bastion.audit.context import SYSTEM, acting_as
    from bastion.tenancy import actions, context
    from bastion.tenancy.models import Organisation

    organisation = Organisation.objects.get(slug="acme")
    with acting_as(SYSTEM):
        while not stop.is_set():
            with context.tenant_context(organisation.id):
                actions.create_workspace(organisation, name=f"load {writes[0]}")
            writes[0] += 1
            time.sleep(interval)
    connection.close()


def postgres(args) -> None:
    import subprocess
    from urllib.parse import quote

    import psycopg

    from tests.backups.pg_peer import postgres_cluster, postgres_owned_base

    base = postgres_owned_base("bastion-bench-pg-")
    try:
        with postgres_cluster(base) as cluster:
            with psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user="postgres", dbname="postgres",
                                 autocommit=True) as admin:
                admin.execute("CREATE DATABASE bastion")
            os.environ.update({"DATABASE_URL": f"postgres://postgres@{quote(str(cluster.socket_dir), safe='')}:"
                                               f"{cluster.port}/bastion",
                               "BASTION_PGBACKREST_CONFIG": str(base / "pgbackrest.conf"),
                               "BASTION_BACKUP_DIR": str(base / "repo1"), "BASTION_AUDIT_CHECKPOINT_SECONDS": "3600"})
            import django

            django.setup()
            from django.core.management import call_command

            from bastion import demo
            from bastion.audit.context import SYSTEM, acting_as
            from bastion.backups import pg_backups, pg_drills, pg_setup
            from bastion.backups.pg_cluster import PG_BIN
            from bastion.backups.pgbackrest import as_postgres

            call_command("migrate", verbosity=0)
            with acting_as(SYSTEM):
                demo.create("bench password 1234")
            done = pg_setup.setup(data_dir=cluster.data_dir, apply=True)
            assert done.ok, (done.steps, done.guidance)
            started = time.monotonic()
            with psycopg.connect(host=str(cluster.socket_dir), port=cluster.port, user="postgres", dbname="bastion",
                                 autocommit=True) as connection:
                random_bytes = " || ".join(["md5(random()::text)"] * 32)  # 512 incompressible bytes a row
                connection.execute(f"CREATE TABLE bulk_filler AS SELECT g AS id, decode({random_bytes}, 'hex') AS payload "
                                   "FROM generate_series(1, %s) g", [args.megabytes * 2**20 // 560])
                size = connection.execute("SELECT pg_database_size('bastion')").fetchone()[0]
            print(f"generated {size / 2**20:.0f} MiB in {time.monotonic() - started:.1f} s")
            stop, writes = threading.Event(), [0]
            thread = threading.Thread(target=_writer, args=(args.interval, stop, writes))
            thread.start()
            try:
                time.sleep(2)
                baseline_started = time.monotonic()
                copy = base / "basebackup"
                subprocess.run(as_postgres([str(PG_BIN / "pg_basebackup"), "-h", str(cluster.socket_dir), "-p",
                                            str(cluster.port), "-U", "postgres", "-D", str(copy), "-X", "none", "-c", "fast"]),
                               check=True, capture_output=True)
                baseline = time.monotonic() - baseline_started
                shutil.rmtree(copy, ignore_errors=True)
                pgbackrest = pg_backups.configured()
                with acting_as(SYSTEM):
                    backup = pg_backups.take(pgbackrest, "full", repos=(1,))
                assert backup.ok, backup.copies
                time.sleep(2)
                with acting_as(SYSTEM):
                    drills = pg_drills.run_configured()
            finally:
                stop.set()
                thread.join()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(f"writes during the run: {writes[0]} audited changes, one every {args.interval} s")
    print(f"backup (pgBackRest full, zstd, aes-256-cbc): {backup.seconds:.1f} s "
          f"(baseline: pg_basebackup {baseline:.1f} s; ratio {backup.seconds / baseline:.1f}x)")
    for drill in drills:
        what = "point in time" if drill.point_in_time else "latest"
        rto = f"{drill.rto_seconds:.1f}" if drill.rto_seconds is not None else "-"
        rpo = f"{drill.rpo_seconds:.1f}" if drill.rpo_seconds is not None else "-"
        print(f"drill ({what}) {'passed' if drill.ok else 'FAILED'}: RTO {rto} s (goal <= 300), RPO {rpo} s "
              f"(goal <= 60), {drill.events_lost} audit events lost")
        for check in drill.checks:
            print(f"  {'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}")


if __name__ == "__main__":
    main()
