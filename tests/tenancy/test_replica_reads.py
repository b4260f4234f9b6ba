"""Reads from a streaming replica (``DATABASE_REPLICA_URL``) through the real ``bastion serve``: a primary
cluster of the tests' own (owner and app roles as in production) and a ``pg_basebackup -R`` replica of it.

Which server answered is shown by what it answers: while the replica's replay is paused
(``pg_wal_replay_pause()``), a supplier written on the primary is in the primary's list and not in the
replica's. So a reader who does not see a row the primary holds was served by the replica, and a
writer who sees their own row at once was served by the primary."""

from __future__ import annotations

import json
import shutil
import time
import urllib.error
import urllib.request
from urllib.parse import quote

import psycopg
import pytest

from tests.backups import installation
from tests.backups.pg_peer import Standby, postgres_cluster, postgres_owned_base
from tests.live_server import _running, free_port
from tests.peers.moto import CREDENTIALS

pytestmark = pytest.mark.own_cluster


def _url(role: str, cluster) -> str:
    return f"postgres://{role}@{quote(str(cluster.socket_dir), safe='')}:{cluster.port}/bastion"


@pytest.fixture(scope="module")
def replicated():
    base, standby_base = postgres_owned_base("bastion-replica-primary-"), postgres_owned_base("bastion-replica-")
    standby = None
    try:
        with postgres_cluster(base) as primary:
            with psycopg.connect(host=str(primary.socket_dir), port=primary.port, user="postgres", dbname="postgres",
                                 autocommit=True) as connection:
                connection.execute("CREATE ROLE bastion_owner LOGIN NOSUPERUSER CREATEDB NOBYPASSRLS")
                connection.execute("CREATE ROLE bastion_app LOGIN NOSUPERUSER NOCREATEDB NOBYPASSRLS NOINHERIT")
                connection.execute("CREATE DATABASE bastion OWNER bastion_owner")
            site = installation.new({**CREDENTIALS, "DATABASE_URL": _url("bastion_app", primary),
                                     "DATABASE_ADMIN_URL": _url("bastion_owner", primary)})
            keys = {
                "writer": site.step("api-key", "editor@acme.example", "suppliers.view,suppliers.edit"),
                "reader": site.step("api-key", "admin@acme.example", "suppliers.view,suppliers.edit"),
                "outsider": site.step("api-key", "viewer@globex.example", "suppliers.view"),
            }
            standby = Standby(standby_base, primary)
            port = free_port()
            env = {**site.env, "DATABASE_REPLICA_URL": _url("bastion_app", standby)}
            url, log = f"http://127.0.0.1:{port}", site.data_dir / "server.log"
            with _running(["serve", "--port", str(port), "--no-jobs"], env, url, log):
                site.primary, site.standby, site.keys, site.url, site.log = primary, standby, keys, url, log
                yield site
    finally:
        if standby is not None:
            standby.stop()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(standby_base, ignore_errors=True)


def _call(site, who: str, method: str = "GET", body: dict | None = None, org: str = "acme",
          project: str | None = None) -> tuple[int, dict]:
    key = site.keys[who]
    path = f"/api/v1/orgs/{org}/projects/{project or key['project']}/suppliers"
    request = urllib.request.Request(
        site.url + path + ("?page_size=100" if method == "GET" else ""), method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key['token']}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _names(site, who: str, **kwargs) -> set[str]:
    status, body = _call(site, who, **kwargs)
    assert status == 200, (status, body, site.log.read_text()[-3000:])
    return {item["name"] for item in body["items"]}


def _write(site, who: str, name: str) -> None:
    status, body = _call(site, who, "POST", {"name": name, "country": "GB"})
    assert status == 201, (status, body)


def _standby_sql(site, query: str, *params):
    with site.standby.connect() as connection:
        return connection.execute(query, params).fetchone()


def _caught_up(site) -> None:
    with psycopg.connect(host=str(site.primary.socket_dir), port=site.primary.port, user="postgres",
                         dbname="postgres", autocommit=True) as primary:
        target = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
    deadline = time.monotonic() + 30
    while _standby_sql(site, "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s) < 0", target)[0]:
        assert time.monotonic() < deadline, "the replica did not catch up"
        time.sleep(0.05)


def _eventually(check, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_reads_follow_the_readers_own_writes_and_otherwise_the_replica(replicated):
    site = replicated
    _caught_up(site)
    before = _names(site, "reader")
    assert before and before == _names(site, "writer")  # the tenant context reached the replica: acme's rows
    _standby_sql(site, "SELECT pg_wal_replay_pause()")
    try:
        _write(site, "writer", "Written while the replica is paused")
        # Read-your-writes: the writer's next read goes to the primary, which has the row …
        assert "Written while the replica is paused" in _names(site, "writer")
        # … while a member of the same organisation who wrote nothing reads the paused replica, without it.
        assert _names(site, "reader") == before
    finally:
        _standby_sql(site, "SELECT pg_wal_replay_resume()")
    _caught_up(site)
    _eventually(lambda: "Written while the replica is paused" in _names(site, "reader"))

    # Once the replica has replayed the writer's write, the writer reads the replica too: with the replica
    # paused again, another member's new row is in the primary and absent from what the writer is shown.
    caught_up = _names(site, "writer")
    _standby_sql(site, "SELECT pg_wal_replay_pause()")
    try:
        _write(site, "reader", "Written by another member")
        assert "Written by another member" in _names(site, "reader")  # the reader wrote: primary
        # The writer did not: the paused replica. (On a loaded machine a probe of the replica can time out;
        # the router then uses the primary for RETRY_SECONDS and tries the replica again.)
        _eventually(lambda: _names(site, "writer") == caught_up, seconds=15)
    finally:
        _standby_sql(site, "SELECT pg_wal_replay_resume()")
    _caught_up(site)


def test_row_level_security_holds_on_the_replica(replicated):
    site = replicated
    _caught_up(site)
    acme, globex = site.keys["writer"]["organisation"], site.keys["outsider"]["organisation"]
    assert _call(site, "outsider", project=site.keys["writer"]["project"])[0] == 404
    assert _call(site, "outsider", org="acme")[0] == 404
    theirs = {item["id"] for item in _call(site, "outsider", org="globex")[1]["items"]}
    assert theirs and not theirs & {item["id"] for item in _call(site, "writer")[1]["items"]}
    # The replica itself, as the app role: nothing without a tenant, only the tenant's rows with one.
    with psycopg.connect(_url("bastion_app", site.standby), autocommit=True) as replica:
        assert replica.execute("SELECT pg_is_in_recovery(), count(*) FROM records_supplier").fetchone() == (True, 0)
        replica.execute("SELECT set_config('bastion.org_id', %s, false)", [globex])
        seen = replica.execute("SELECT count(*) FILTER (WHERE project_id = %s), count(*) FILTER"
                               " (WHERE organisation_id <> %s) FROM records_supplier",
                               [site.keys["outsider"]["project"], globex]).fetchone()
        assert seen == (len(theirs), 0)
        replica.execute("SELECT set_config('bastion.org_id', '', false)")
        replica.execute("SELECT set_config('bastion.user_id', '1', false)")  # a user id alone shows no records
        assert replica.execute("SELECT count(*) FROM records_supplier WHERE organisation_id = %s",
                               [acme]).fetchone() == (0,)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            replica.execute("DELETE FROM records_supplier")


def test_a_replica_that_is_down_is_skipped(replicated):
    site = replicated
    site.standby.stop()
    try:
        time.sleep(2.2)  # past the probe's retry interval: the server meets the replica down
        _write(site, "writer", "Written while the replica is down")
        assert "Written while the replica is down" in _names(site, "reader")  # from the primary, no 500
        assert "Written while the replica is down" not in _names(site, "outsider", org="globex")
    finally:
        site.standby.start()
    _caught_up(site)
    _eventually(lambda: "Written while the replica is down" in _names(site, "reader"))


def test_a_bad_replica_url_is_refused_by_the_config_check(replicated):
    done = replicated.bastion("config", "check", DATABASE_REPLICA_URL="mysql://somewhere/bastion")
    assert done.returncode != 0 and "DATABASE_REPLICA_URL" in done.stdout + done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
