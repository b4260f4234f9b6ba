"""SQLite backups through ``bastion backup …``: encrypted snapshots, restores into a new place with
the audit chains checked against the anchored checkpoints, drills, repository checks, offsite copies
on S3, and loud failures."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest

from tests.backups import installation
from tests.live_server import ROOT, free_port
from tests.peers.moto import CREDENTIALS

ID = r"[0-9a-f-]{36}"
pytestmark = pytest.mark.own_cluster  # its own SQLite installation whatever the suite's database


def _ids(output: str) -> list[str]:
    return re.findall(rf"^ok ({ID}) ", output, flags=re.M)


def _lost(output: str, chain: str) -> int:
    return int(re.search(rf"chain {chain}: \d+ events restored, (\d+) beyond", output).group(1))


def _acme(site) -> str:
    return site.step("ids")["acme"]


def test_backup_restore_reports_the_events_lost_and_the_copy_opens(site, tmp_path):
    taken = site.bastion("backup", "now")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    [backup_id] = _ids(taken.stdout)
    # Nothing readable in the repository: the archive is ciphertext, its key wrapped by the KMS.
    repository = Path(site.env["BASTION_BACKUP_DIR"])
    stored = (repository / f"{backup_id}.bak").read_bytes()
    assert stored.startswith(b"BEA1") and b"SQLite format 3" not in stored and b"acme" not in stored
    manifest = json.loads((repository / f"{backup_id}.json").read_text())
    assert set(manifest["key"]) == {"provider", "kek_id", "blob"} and manifest["row_counts"]["tenancy_organisation"] == 2
    assert not any((repository / name).exists() for name in ("keys", "secret_key"))

    site.step("write", "After the backup")  # one acme event the backup does not hold
    site.step("sign")
    restored = site.bastion("backup", "restore", "--to", str(tmp_path / "restored"), "--backup", backup_id)
    assert restored.returncode == 0, restored.stdout + restored.stderr
    acme = _acme(site)
    assert _lost(restored.stdout, acme) == 1
    assert "BROKEN" not in restored.stdout
    opened = site.step("read-restored", str(tmp_path / "restored"), acme)
    assert opened["opened"] >= 2 and opened["refused"] == 0


def _globex(site) -> str:
    return site.step("ids")["globex"]


def test_restore_never_overwrites_and_bad_usage_exits_2(site, tmp_path):
    live = site.bastion("backup", "restore", "--to", str(site.data_dir))
    assert live.returncode == 2 and "live data directory" in live.stderr and live.stderr.count("\n") == 1
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "bastion.sqlite3").write_text("x")
    busy = site.bastion("backup", "restore", "--to", str(tmp_path / "busy"))
    assert busy.returncode == 2 and "new, empty directory" in busy.stderr
    assert (tmp_path / "busy" / "bastion.sqlite3").read_text() == "x"
    unknown = site.bastion("backup", "restore", "--to", str(tmp_path / "new"), "--backup", str(uuid.uuid4()))
    assert unknown.returncode == 2 and "no backup" in unknown.stderr
    missing = site.bastion("backup", "restore", "--time", "2026-01-01T00:00:00+00:00")
    assert missing.returncode == 2 and "--to DIR" in missing.stderr and "Traceback" not in missing.stderr


def test_drill_measures_rto_and_rpo_and_proves_the_backup(site):
    site.bastion("backup", "now")
    drill = site.bastion("backup", "drill")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    for check in ("restore", "audit chains", "row counts", "migrations", "encrypted sample", "serving"):
        assert f"ok {check}:" in drill.stdout
    # The latest backup, then a random point in time inside the window (restored from the snapshot
    # taken at or before it: its RPO is that moment minus the snapshot's).
    assert "--- drill of the latest backup" in drill.stdout and "--- drill of the point in time" in drill.stdout
    figures = [tuple(map(float, found)) for found in re.findall(r"RTO ([\d.]+) s, RPO ([\d.]+) s", drill.stdout)]
    assert len(figures) == 2 and drill.stdout.count(" passed: ") == 2
    for rto, rpo in figures:
        assert 0 < rto < 60 and 0 <= rpo < 3600
    rto = figures[-1][0]
    listing = site.bastion("backup", "list")
    assert listing.returncode == 0
    header, *rows = listing.stdout.splitlines()
    assert all(column in header for column in ("size", "type", "repository", "drill-proven"))
    assert any(re.search(r" snapshot +[\d.]+ (KiB|MiB) +ok +yes ", row) for row in rows), listing.stdout
    status = site.step("status")
    assert status["last_drill_ok"] is True and abs(status["rto_seconds"] - rto) < 0.01


def test_verify_finds_an_altered_backup(site):
    assert site.bastion("backup", "verify").returncode == 0
    repository = Path(site.env["BASTION_BACKUP_DIR"])
    victim = sorted(repository.glob("*.bak"))[0]
    original = victim.read_bytes()
    victim.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    try:
        altered = site.bastion("backup", "verify")
        assert altered.returncode == 1 and f"backup {victim.stem}" in altered.stdout
        drill = site.bastion("backup", "drill", "--backup", victim.stem)
        assert drill.returncode == 1 and "FAILED restore" in drill.stdout
    finally:
        victim.write_bytes(original)


def test_offsite_copy_on_s3_and_an_unreachable_repository_fails_loudly(site, moto_url, tmp_path):
    bucket = f"offsite-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)
    offsite = f"s3://{bucket}/bastion?endpoint_url={moto_url}&region=us-east-1"
    taken = site.bastion("backup", "now", BASTION_BACKUP_URL=offsite)
    assert taken.returncode == 0, taken.stdout + taken.stderr
    local_id, s3_id = _ids(taken.stdout)
    assert f"s3://{bucket}/bastion" in taken.stdout
    restored = site.bastion("backup", "restore", "--to", str(tmp_path / "from-s3"), "--backup", s3_id,
                            BASTION_BACKUP_URL=offsite)
    assert restored.returncode == 0, restored.stdout + restored.stderr

    before = sorted(p.name for p in Path(site.env["BASTION_BACKUP_DIR"]).iterdir())
    down = f"s3://{bucket}/bastion?endpoint_url=http://127.0.0.1:{free_port()}&region=us-east-1"
    failed = site.bastion("backup", "now", BASTION_BACKUP_URL=down)
    assert failed.returncode == 1 and "FAILED s3://" in failed.stdout
    assert "Traceback" not in failed.stderr
    after = sorted(p.name for p in Path(site.env["BASTION_BACKUP_DIR"]).iterdir())
    assert set(before) <= set(after)  # nothing deleted; the local copy of this run was still written
    listing = site.bastion("backup", "list").stdout
    assert re.search(r"failed .*s3://.*\(cannot write", listing)
    status = site.step("status")
    assert status["last_backup_ok"] is False and status["last_good_backup_at"]


def test_kill_9_mid_backup_then_the_next_backup_and_a_drill_succeed(site, tmp_path):
    site.step("fill", "40")  # MB, so that the backup takes long enough to be interrupted
    spool = tmp_path / "spool"
    spool.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "bastion.cli", "backup", "now"], cwd=ROOT,
                               env={**site.env, "TMPDIR": str(spool)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(spool.glob("bastion-backup-*/archive.tar")):
        assert process.poll() is None and time.monotonic() < deadline, "the backup ended before it could be killed"
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert site.bastion("backup", "verify").returncode == 0  # the repository is consistent
    taken = site.bastion("backup", "now")
    assert taken.returncode == 0, taken.stdout + taken.stderr
    drill = site.bastion("backup", "drill")
    assert drill.returncode == 0, drill.stdout + drill.stderr


def test_a_backup_from_before_an_organisation_was_deleted_cannot_open_its_data(tmp_path):
    world = installation.new(CREDENTIALS)
    globex = _globex(world)
    taken = world.bastion("backup", "now")
    assert taken.returncode == 0, taken.stderr
    world.step("delete", "globex")
    restored = world.bastion("backup", "restore", "--to", str(tmp_path / "old"))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    shredded = world.step("read-restored", str(tmp_path / "old"), globex)
    assert shredded["opened"] == 0 and shredded["refused"] >= 2  # fields and evidence files alike
    kept = world.step("read-restored", str(tmp_path / "old"), _acme(world))
    assert kept["opened"] >= 2 and kept["refused"] == 0
    drill = world.bastion("backup", "drill")  # shredded rows are expected, not a failed drill
    assert drill.returncode == 0 and "shredded" in drill.stdout, drill.stdout


def test_the_scheduled_jobs_as_the_worker_runs_them(site):
    before = {row.split()[0] for row in site.bastion("backup", "list").stdout.splitlines()[1:]}
    assert site.step("job", "backup_hourly") == {"result": 0}
    after = site.bastion("backup", "list").stdout.splitlines()[1:]
    new = [row for row in after if row.split()[0] not in before]
    assert len(new) == 1 and " snapshot " in new[0] and " ok " in new[0], after
    assert site.step("job", "backup_drill_weekly") == {"result": 0}
    status = site.step("status")
    assert status["last_drill_ok"] is True
