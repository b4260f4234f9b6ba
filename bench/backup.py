"""Backups under a steady write load (issue 16), on the embedded SQLite database:

    uv run python bench/backup.py --megabytes 1024      # the issue's figure (1 GB)
    uv run python bench/backup.py --megabytes 200       # quicker

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
import _setup  # noqa: E402,F401  (paths and settings module)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=1024)
    parser.add_argument("--interval", type=float, default=0.2, help="seconds between audited writes")
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
