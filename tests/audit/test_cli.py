"""``bastion audit verify`` and ``bastion audit export`` as an operator runs them, against ``bastion demo``."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid

import pytest

from tests.live_server import ROOT, demo_server


@pytest.fixture(scope="module")
def demo():
    with demo_server() as server:
        yield server


def _bastion(server, *args):
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120)


def _tamper(server, sql: str, params: tuple) -> None:
    """As an attacker with full access to the database: triggers out of the way."""
    if server.env.get("DATABASE_URL"):
        import psycopg

        database = server.env["DATABASE_URL"].rsplit("/", 1)[1]
        superuser = os.environ.get("BASTION_TEST_PG_SUPERUSER_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        with psycopg.connect(psycopg.conninfo.make_conninfo(superuser, dbname=database), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            conn.execute(sql.replace("?", "%s"), params)
    else:
        with sqlite3.connect(server.data_dir / "bastion.sqlite3") as conn:
            conn.execute('DROP TRIGGER IF EXISTS "audit_auditevent_append_only_update"')
            conn.execute(sql, tuple(uuid.UUID(p).hex if isinstance(p, str) and len(p) == 36 else p for p in params))


def test_verify_exits_0_when_intact_and_1_naming_the_organisation_and_sequence(demo, tmp_path):
    intact = _bastion(demo, "audit", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert "ok organisation acme" in intact.stdout and "ok organisation globex" in intact.stdout

    export = _bastion(demo, "audit", "export", "--org", "acme", "-o", str(tmp_path / "acme.jsonl"))
    assert export.returncode == 0, export.stderr
    offline = subprocess.run([sys.executable, "-m", "bastion.audit.offline", str(tmp_path / "acme.jsonl")],
                             capture_output=True, text=True)
    assert offline.returncode == 0, offline.stdout + offline.stderr

    chain = intact.stdout.split("organisation acme (", 1)[1].split(")", 1)[0]  # the line names its chain
    _tamper(demo, "UPDATE audit_auditevent SET actor_label = 'nobody' WHERE chain_id = ? AND seq = 3", (chain,))
    broken = _bastion(demo, "audit", "verify")
    assert broken.returncode == 1
    [line] = [line for line in broken.stdout.splitlines() if line.startswith("BROKEN")]
    assert "organisation acme" in line and "first bad sequence number 3" in line
    assert "ok organisation globex" in broken.stdout


def test_a_bad_slug_is_a_clear_error(demo):
    result = _bastion(demo, "audit", "verify", "--org", "no-such-org")
    assert result.returncode == 2
    assert result.stderr.strip() == "bastion audit verify: no organisation with slug 'no-such-org'"
