"""``bastion access-log verify`` as an operator runs it, against ``bastion demo``: exit 0 when every
organisation's read-access chain holds, 1 naming the organisation and the first bad batch, 2 for an
unknown organisation."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid

import pytest

from tests.live_server import ROOT, demo_server

APPEND = """
import sys, uuid
import django
django.setup()
from bastion.access_log import recording
from bastion.tenancy import context
from bastion.tenancy.organisations import id_for
organisation = uuid.UUID(id_for(sys.argv[1]))
for i in range(int(sys.argv[2])):
    with context.tenant_context(organisation):
        recording.record(organisation, "export", [("project", f"p{i}")])
print(organisation)
"""


@pytest.fixture(scope="module")
def demo():
    with demo_server() as server:
        yield server


def _bastion(server, *args):
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=server.env,
                          capture_output=True, text=True, timeout=120)


def _append(server, slug: str, count: int) -> str:
    """Batches appended and committed by the platform's own code, as requests would."""
    env = server.env | {"DJANGO_SETTINGS_MODULE": "bastion.settings", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-c", APPEND, slug, str(count)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


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
            for operation in ("update", "delete"):
                conn.execute(f'DROP TRIGGER IF EXISTS "access_log_accessbatch_append_only_{operation}"')
            conn.execute(sql, tuple(uuid.UUID(p).hex if isinstance(p, str) and len(p) == 36 else p for p in params))


def test_verify_exits_0_when_intact_and_1_naming_the_organisation_and_batch(demo):
    acme = _append(demo, "acme", 3)
    _append(demo, "globex", 1)
    intact = _bastion(demo, "access-log", "verify")
    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert f"ok organisation acme ({acme}):" in intact.stdout and "ok organisation globex" in intact.stdout
    assert "BROKEN" not in intact.stdout

    _tamper(demo, "UPDATE access_log_accessbatch SET actor_label = 'nobody' WHERE organisation_id = ? AND seq = "
                  "(SELECT max(seq) - 1 FROM access_log_accessbatch WHERE organisation_id = ?)", (acme, acme))
    broken = _bastion(demo, "access-log", "verify")
    assert broken.returncode == 1, broken.stdout + broken.stderr
    [line] = [line for line in broken.stdout.splitlines() if line.startswith("BROKEN")]
    assert f"organisation acme ({acme})" in line and "does not match its hash" in line
    assert "ok organisation globex" in broken.stdout
    only_globex = _bastion(demo, "access-log", "verify", "--org", "globex")
    assert only_globex.returncode == 0 and "acme" not in only_globex.stdout


def test_a_deleted_tail_is_found_by_the_head(demo):
    globex = _append(demo, "globex", 2)
    _tamper(demo, "DELETE FROM access_log_accessbatch WHERE organisation_id = ? AND seq = "
                  "(SELECT max(seq) FROM access_log_accessbatch WHERE organisation_id = ?)", (globex, globex))
    broken = _bastion(demo, "access-log", "verify", "--org", "globex", "--no-record")
    assert broken.returncode == 1
    assert "BROKEN organisation globex" in broken.stdout and "the head records" in broken.stdout


def test_a_bad_slug_is_a_clear_error(demo):
    result = _bastion(demo, "access-log", "verify", "--org", "no-such-org")
    assert result.returncode == 2
    assert result.stderr.strip() == "bastion access-log verify: no organisation with slug 'no-such-org'"
