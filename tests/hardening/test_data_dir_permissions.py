"""The data directory is private: created 0700, its SQLite databases (and their -wal/-shm files) and
the job queue 0600; every command refuses to run while any of them is open to group or others."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from tests.live_server import ROOT

pytestmark = pytest.mark.own_cluster  # its own SQLite installation (bastion migrate in a subprocess) whatever the suite's database


def _bastion(data_dir, *args) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in {"DATABASE_URL", "DATABASE_ADMIN_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env["BASTION_DATA_DIR"] = str(data_dir)
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("perms") / "data"  # made by Bastion itself
    migrated = _bastion(directory, "migrate", "--quiet")
    assert migrated.returncode == 0, migrated.stderr
    return directory


def test_the_data_dir_and_its_databases_are_private(data_dir):
    assert _mode(data_dir) == 0o700
    files = [data_dir / name for name in ("bastion.sqlite3", "jobs.sqlite3", "secret_key")]
    files += [path for path in data_dir.iterdir() if path.name.endswith(("-wal", "-shm"))]
    assert len(files) >= 3
    assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}


@pytest.mark.parametrize("name", ["bastion.sqlite3", "jobs.sqlite3", "bastion.sqlite3-wal"])
def test_every_command_refuses_to_run_while_a_database_is_readable_by_others(data_dir, name):
    path = data_dir / name
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o644)
    try:
        refused = _bastion(data_dir, "audit", "verify", "--no-record")
        assert refused.returncode == 2
        assert refused.stderr.strip() == (f"bastion: configuration error: data file {path} is readable by group or "
                                          f"others (mode 0644); run: chmod 600 {path}")
    finally:
        path.chmod(0o600)
    assert _bastion(data_dir, "audit", "verify", "--no-record").returncode == 0


@pytest.mark.parametrize("variable, value, message", [
    ("BASTION_AUDIT_ANCHOR_URL", "s3://bucket/x?colour=red",
     "BASTION_AUDIT_ANCHOR_URL: unknown option(s) colour (known: endpoint_url, region)"),
    ("BASTION_AUDIT_CHECKPOINT_MINUTES", "10",
     "BASTION_AUDIT_CHECKPOINT_MINUTES is replaced by BASTION_AUDIT_CHECKPOINT_SECONDS (default 60): unset it, "
     "and set that one if 60 seconds is not what you want"),
])
def test_bad_audit_settings_stop_every_command(data_dir, variable, value, message):
    result = subprocess.run([sys.executable, "-m", "bastion.cli", "audit", "verify"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120,
                            env={**{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
                                 "BASTION_DATA_DIR": str(data_dir), variable: value})
    assert result.returncode == 2
    assert result.stderr.strip() == f"bastion: configuration error: {message}"
