"""``bastion dr drill`` through the real CLI: a Bastion installation on a primary cluster of the
tests' own, and a streaming replica of it (``pg_basebackup -R``) in another directory and port
standing for the DR region. The drill copies the standby, promotes the copy, serves from it, verifies
the audit chains and measures RTO and data lost; the primary and the standby are left as they were."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from tests.backups import installation
from tests.backups.pg_peer import Standby, postgres_cluster, postgres_owned_base
from tests.peers.moto import CREDENTIALS

pytestmark = pytest.mark.own_cluster


def _connect(socket_dir, port: int, dbname: str = "postgres") -> psycopg.Connection:
    return psycopg.connect(host=str(socket_dir), port=port, user="postgres", dbname=dbname, autocommit=True)


@pytest.fixture(scope="module")
def dr_site():
    base = postgres_owned_base("bastion-dr-primary-")
    standby_base = postgres_owned_base("bastion-dr-standby-")
    standby = None
    try:
        with postgres_cluster(base) as primary:
            with _connect(primary.socket_dir, primary.port) as connection:
                connection.execute("CREATE DATABASE bastion")
            site = installation.new(
                {
                    **CREDENTIALS,
                    "DATABASE_URL": f"postgres://postgres@{quote(str(primary.socket_dir), safe='')}:"
                    f"{primary.port}/bastion",
                }
            )
            standby = Standby(standby_base, primary)
            site.primary, site.standby = primary, standby
            site.env["BASTION_DR_STANDBY_URL"] = standby.url
            yield site
    finally:
        if standby is not None:
            standby.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(standby_base, ignore_errors=True)


def _primary(site) -> psycopg.Connection:
    return _connect(site.primary.socket_dir, site.primary.port, "bastion")


def _caught_up(site) -> None:
    with _connect(site.primary.socket_dir, site.primary.port) as primary:
        target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + 30
    with site.standby.connect() as standby:
        while standby.execute("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) < 0", [target]).fetchone()[0]:
            assert time.monotonic() < deadline, "the standby did not catch up"
            time.sleep(0.1)


def _figures(out: str) -> tuple[float, float, int]:
    found = re.search(r"passed: RTO ([\d.]+) s, RPO ([\d.]+) s \(target [\d.]+ s\), (\d+) audit event\(s\) lost", out)
    assert found, out
    return float(found.group(1)), float(found.group(2)), int(found.group(3))


def _drill(site, **env) -> subprocess.CompletedProcess:
    done = site.bastion("dr", "drill", timeout=300, **env)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def _stored(site) -> tuple:
    with _primary(site) as connection:
        return connection.execute(
            "SELECT kind, ok, rto_seconds, rpo_seconds, events_lost FROM backups_drill ORDER BY started_at DESC LIMIT 1"
        ).fetchone()


def _still_primary_and_standby(site, label: str) -> None:
    with _primary(site) as connection:
        assert connection.execute("SELECT pg_is_in_recovery()").fetchone()[0] is False
    site.step("write", f"Still writable {label}")
    with site.standby.connect() as standby:
        assert standby.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True


def test_drill_on_a_caught_up_standby_serves_with_nothing_lost(dr_site):
    unset = dr_site.bastion("dr", "drill", BASTION_DR_STANDBY_URL="")
    assert unset.returncode == 2 and "BASTION_DR_STANDBY_URL" in unset.stderr, unset.stderr
    sqlite = dr_site.bastion("dr", "drill", DATABASE_URL="")
    assert sqlite.returncode == 2 and "for PostgreSQL" in sqlite.stderr, sqlite.stderr
    bad = dr_site.bastion("dr", "drill", BASTION_DR_RPO_TARGET_SECONDS="soon")
    assert bad.returncode == 2 and "BASTION_DR_RPO_TARGET_SECONDS" in bad.stderr, bad.stderr

    dr_site.step("write", "Before the DR drill")
    dr_site.step("sign")
    _caught_up(dr_site)
    done = _drill(dr_site)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"^ok serving: bastion serve answered /healthz", done.stdout, flags=re.M), done.stdout
    assert re.search(r"^ok audit chains: \d+ chains intact, 0 events lost$", done.stdout, flags=re.M), done.stdout
    # No pgBackRest on this site: the offsite half is said to be unchecked (tests/backups/test_dr_offsite.py checks it).
    assert "offsite backup: not checked (BASTION_PGBACKREST_CONFIG is not set" in done.stderr, done.stderr
    print(done.stdout)  # the figures of this run, for the record (pytest -s)
    rto, rpo, lost = _figures(done.stdout)
    assert 0 < rto < 120 and rpo == 0 and lost == 0
    assert ", 0 WAL bytes lost" in done.stdout
    kind, ok, stored_rto, stored_rpo, events_lost = _stored(dr_site)
    assert (kind, ok, stored_rpo, events_lost) == ("dr", True, 0.0, 0) and stored_rto == pytest.approx(rto, abs=0.01)
    with _primary(dr_site) as connection:
        connection.execute("SELECT set_config('bastion.scope', 'platform', false)")
        action = connection.execute("SELECT action FROM audit_auditevent ORDER BY occurred_at DESC LIMIT 1").fetchone()
    assert action == ("backup.dr_drill.completed",)
    _still_primary_and_standby(dr_site, "1")


def test_lagging_standby_loses_data_counted_and_fails_a_tight_target(dr_site):
    with dr_site.standby.connect() as standby:
        upstream = standby.execute("SHOW primary_conninfo").fetchone()[0]
        standby.execute("ALTER SYSTEM SET primary_conninfo = ''")  # the DR link cut
        standby.execute("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while standby.execute("SELECT count(*) FROM pg_stat_wal_receiver").fetchone()[0]:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    try:
        dr_site.step("write", "Lost in the failover")
        dr_site.step("write", "Also lost")
        time.sleep(1)
        done = _drill(dr_site)  # the default target (300 s) holds: the figures are reported, the drill passes
        assert done.returncode == 0, done.stdout + done.stderr
        print(done.stdout)  # the figures of this run, for the record (pytest -s)
        _, rpo, lost = _figures(done.stdout)
        assert lost >= 2 and rpo > 1
        assert re.search(r"audit event\(s\) lost, [1-9]\d* WAL bytes lost", done.stdout), done.stdout
        tight = _drill(dr_site, BASTION_DR_RPO_TARGET_SECONDS="0.5")
        assert tight.returncode == 1, tight.stdout + tight.stderr
        assert re.search(
            r"^FAILED RPO target: [\d.]+ s of data lost \(\d+ WAL bytes\), target 0\.5 s$", tight.stdout, flags=re.M
        ), tight.stdout
        assert _stored(dr_site)[:2] == ("dr", False)
    finally:
        with dr_site.standby.connect() as standby:
            standby.execute(sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(sql.Literal(upstream)))
            standby.execute("SELECT pg_reload_conf()")
    _caught_up(dr_site)
    _still_primary_and_standby(dr_site, "2")


def test_tampered_audit_chain_on_the_standby_fails_the_drill(dr_site):
    with _primary(dr_site) as connection:  # a superuser's edit, replicated to the standby as any write is
        connection.execute("SET session_replication_role = replica")
        chain = connection.execute(
            "SELECT chain_id FROM audit_auditevent WHERE seq = 2 ORDER BY occurred_at LIMIT 1"
        ).fetchone()[0]
        connection.execute(
            "UPDATE audit_auditevent SET actor_label = 'nobody' WHERE chain_id = %s AND seq = 2", [chain]
        )
    _caught_up(dr_site)
    done = _drill(dr_site)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(rf"^FAILED audit chains: .*{chain}", done.stdout, flags=re.M), done.stdout
    assert "DR drill" in done.stdout and " FAILED: RTO " in done.stdout
    _still_primary_and_standby(dr_site, "3")
