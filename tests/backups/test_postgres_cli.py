"""``bastion backup setup|now|list|restore|drill|verify`` on PostgreSQL through the real CLI, and the
scheduled backup job as the worker runs it, for a Bastion installation on a cluster of the tests' own."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import stat
import subprocess

import psycopg
import pytest

from bastion.backups.pg_cluster import PG_BIN
from bastion.backups.pgbackrest import as_postgres
from tests.backups.pg_peer import postgres_owned_base
from tests.live_server import free_port

pytestmark = pytest.mark.own_cluster


def _ok(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done.stdout


def test_setup_writes_pgbackrest_config_and_archiving_then_checks(pg_site):
    config = pg_site.env["BASTION_PGBACKREST_CONFIG"]
    first = pg_site.bastion("backup", "setup")
    assert first.returncode == 1, first.stdout + first.stderr  # archiving is not set yet: told exactly what to set
    assert "ok config" in first.stdout and "ok stanza" in first.stdout
    assert f"archive_command = 'pgbackrest --config={config} --stanza=bastion archive-push %p'" in first.stdout
    assert "archive_timeout = '60s'" in first.stdout and "is NOT set up" in first.stdout
    mode = os.stat(config)
    assert stat.S_IMODE(mode.st_mode) == 0o640 and mode.st_uid == int(subprocess.check_output(["id", "-u", "postgres"]))
    assert "cipher-type=aes-256-cbc" in open(config).read()

    applied = _ok(pg_site.bastion("backup", "setup", "--apply"))
    assert "ok archiving: set archive_command, archive_timeout" in applied and "ok check:" in applied
    again = _ok(pg_site.bastion("backup", "setup"))  # idempotent: nothing left to do
    assert "ok archiving: archive_command is pgBackRest's" in again

    sqlite = pg_site.bastion("backup", "setup", DATABASE_URL="")
    assert sqlite.returncode == 2 and "setup is for PostgreSQL" in sqlite.stderr
    unset = pg_site.bastion("backup", "setup", BASTION_PGBACKREST_CONFIG="")
    assert unset.returncode == 2 and "BASTION_PGBACKREST_CONFIG" in unset.stderr


def test_scheduled_job_and_every_command_on_postgresql(pg_site):
    taken = _ok(pg_site.bastion("backup", "now"))
    assert re.search(r"^ok [0-9a-f-]{36} repo1 full \S+ \d+ bytes$", taken, flags=re.M), taken
    # The hourly job, as the worker runs it: a full backup exists this week, so an incremental one.
    assert pg_site.step("job", "backup_hourly") == {"result": 0}
    listing = _ok(pg_site.bastion("backup", "list"))
    assert re.search(r" incr +[\d.]+ (B|KiB|MiB) +ok +no +repo1 \(local\)", listing), listing

    before = pg_site.step("write", "Before the drill")
    pg_site.step("sign")
    drilled = _ok(pg_site.bastion("backup", "drill", timeout=600))
    assert "--- drill of the latest backup" in drilled and "--- drill of the point in time" in drilled
    assert re.search(r"^ok row counts: \d+ tables equal to the source at ", drilled, flags=re.M), drilled
    assert re.search(r"^ok audit chains: \d+ chains intact, 0 events lost$", drilled, flags=re.M), drilled
    assert drilled.count(" passed: RTO ") == 2
    rto = float(re.search(r"passed: RTO ([\d.]+) s", drilled).group(1))
    assert 0 < rto < 300
    proven = _ok(pg_site.bastion("backup", "list"))
    assert re.search(r" ok +yes +repo1", proven), proven
    # The drill figures reach the status read by the status page and the console.
    status = pg_site.step("status")
    assert status["last_drill_ok"] is True

    moment = datetime.datetime.fromisoformat(before["at"]) + datetime.timedelta(milliseconds=200)
    pg_site.step("write", "After the moment")  # after the drill: seconds after the moment
    place = postgres_owned_base("bastion-cli-restore-")
    port = free_port()
    live_port = pg_site.cluster.port
    refused = pg_site.bastion("backup", "restore", "--to", str(place / "x"),
                              "--to-database", f"postgres://localhost:{live_port}/bastion")
    assert refused.returncode == 2 and "live database" in refused.stderr
    try:  # the restored cluster is left serving by the command: stopped here whatever happens
        restored = _ok(pg_site.bastion("backup", "restore", "--to", str(place / "restored"), "--to-database",
                                       f"postgres://localhost:{port}/bastion", "--time", moment.isoformat(), timeout=600))
        # acme's chain holds "Before the drill" (covered by a checkpoint signed and anchored after the
        # moment, which the copy rightly lacks) and loses "After the moment": one event, counted.
        assert "BROKEN" not in restored, restored
        assert re.search(r"^ok chain \S+: \d+ events restored, 1 beyond the restore point$", restored, flags=re.M), restored
        with psycopg.connect(host=str(place / "restored.sock"), port=port, user="postgres", dbname="bastion") as copy:
            names = [name for (name,) in copy.execute("SELECT name FROM tenancy_workspace")]
        assert "Before the drill" in names and "After the moment" not in names
    finally:
        subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(place / "restored"), "-m", "immediate",
                                    "-w", "stop"]), capture_output=True)
        shutil.rmtree(place, ignore_errors=True)
    verified = _ok(pg_site.bastion("backup", "verify", timeout=600))
    assert verified.strip() == "ok repo1"
