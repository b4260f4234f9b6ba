"""PostgreSQL backups with real pgBackRest 2.45: a cluster of the tests' own archiving its WAL into
an encrypted local repository and an encrypted S3 one (moto behind TLS); point-in-time restores into
new clusters; loud failures; kill -9 mid-backup; Bastion's retention enforced with ``expire``."""

from __future__ import annotations

import datetime
import os
import random
import signal
import stat
import subprocess
import time
import uuid

import pytest

from bastion.audit.models import AuditEvent
from bastion.backups import environments, keys, pg_backups, pg_cluster, pg_drills, retention
from bastion.backups.models import Backup, Drill
from bastion.backups.pgbackrest import LocalRepo, S3Repo, as_postgres
from bastion.db.platform import PLATFORM_ID
from bastion.tenancy import context
from tests.live_server import free_port

pytestmark = pytest.mark.own_cluster


def _notes(cluster: pg_cluster.Restored) -> list[str]:
    with cluster.connect() as connection:
        return [note for (note,) in connection.execute("SELECT note FROM ledger ORDER BY id")]


def test_config_holds_the_passphrase_only_for_postgres_and_it_is_not_in_the_database(peer):
    mode = os.stat(peer.pgbackrest.config)
    assert stat.S_IMODE(mode.st_mode) == 0o640 and mode.st_uid == int(subprocess.check_output(["id", "-u", "postgres"]))
    assert f"cipher-pass={peer.passphrase}" in peer.pgbackrest.config.read_text()
    wrapped = peer.wrapped_passphrase  # what Bastion keeps: the passphrase wrapped by the KMS provider, 0600
    assert stat.S_IMODE(wrapped.stat().st_mode) == 0o600 and peer.passphrase not in wrapped.read_text()
    assert keys.pgbackrest_passphrase(wrapped) == peer.passphrase


def test_point_in_time_restore_between_two_writes_recovers_exactly_the_first(peer, db):
    result = pg_backups.take(peer.pgbackrest, "full", repos=(1, 2))
    assert result.ok, [c.error for c in result.copies]
    assert {b.repository for b in Backup.objects.filter(status="ok", engine="postgresql")} == {"repo1 (local)",
                                                                                            "repo2 (offsite)"}
    with peer.connect() as connection:
        connection.execute("INSERT INTO ledger (note) VALUES ('first')")
        time.sleep(1.1)
        moment = connection.execute("SELECT now()").fetchone()[0]
        time.sleep(1.1)
        connection.execute("INSERT INTO ledger (note) VALUES ('second')")
    peer.pgbackrest.check()  # the WAL holding both writes is archived
    restored = pg_backups.restore(peer.pgbackrest, peer.base / "pitr", free_port(), target_time=moment, repo=1)
    try:
        assert _notes(restored.cluster) == ["first"]
        assert restored.restored_time is not None and restored.restored_time <= moment
    finally:
        pg_cluster.stop(restored.cluster)
    # The offsite repository restores too (to its latest: both writes).
    offsite = pg_backups.restore(peer.pgbackrest, peer.base / "offsite", free_port(), repo=2)
    try:
        assert _notes(offsite.cluster) == ["first", "second"]
    finally:
        pg_cluster.stop(offsite.cluster)


def test_a_repository_with_production_backups_restores_in_production_only(peer, db, settings):
    """Each backup is annotated with the environment it was taken in; staging and development refuse
    a repository holding a production backup (PostgreSQL backups cannot be anonymised), audited,
    before anything is restored."""
    result = pg_backups.take(peer.pgbackrest, "full", repos=(1,))
    assert result.ok, [c.error for c in result.copies]
    [made] = [b for b in peer.pgbackrest.backups(1) if b["label"] == result.copies[0].label]
    assert made["annotation"] == {"bastion-environment": "production"}
    for here in ("staging", "development"):
        settings.BASTION_ENVIRONMENT = here
        with pytest.raises(environments.NotAnonymised, match=f"this is {here}"):
            pg_backups.restore(peer.pgbackrest, peer.base / f"refused-{here}", free_port(), repo=1)
        assert not (peer.base / f"refused-{here}").exists()
    with context.platform_scope():
        refused = AuditEvent.objects.filter(chain_id=str(PLATFORM_ID), action="backup.restore.refused")
        assert [e.changes["environment"] for e in refused.order_by("seq")][-2:] == ["staging", "development"]


def test_an_unreachable_repository_fails_loudly_and_keeps_the_last_good_backup(peer, db):
    pg_backups.take(peer.pgbackrest, "full", repos=(1,))
    good = [b["label"] for b in peer.pgbackrest.backups(1)]
    down = S3Repo(**{**peer.s3.__dict__, "port": free_port()})
    broken = peer.config_with("broken.conf", [LocalRepo(peer.base / "repo1"), down], io_timeout=3)
    result = pg_backups.take(broken, "incr", repos=(2,))
    assert not result.ok and "pgbackrest" in result.copies[0].error
    failed = Backup.objects.get(pk=result.copies[0].backup_id)
    assert failed.status == "failed" and failed.error
    assert set(good) <= {b["label"] for b in peer.pgbackrest.backups(1)}
    from bastion.backups import status

    assert status.latest().last_backup_ok is False


def test_kill_9_mid_backup_then_the_next_backup_and_a_drill_succeed(peer, db):
    with peer.connect() as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS bulk AS SELECT g, md5(g::text) || repeat('x', 500) AS pad "
                           "FROM generate_series(1, 150000) g")
    command = as_postgres(["pgbackrest", f"--config={peer.pgbackrest.config}", "--stanza=bastion", "--repo=1",
                           "--type=full", "backup"])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(1.5)
    assert process.poll() is None, "the backup ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    result = pg_backups.take(peer.pgbackrest, "full", repos=(1,))
    assert result.ok, result.copies[0].error
    peer.pgbackrest.verify(1)
    drill = pg_drills.run(peer.pgbackrest, port=free_port(),
                          source_dsn={"host": str(peer.cluster.socket_dir), "port": peer.cluster.port,
                                      "user": "postgres"})
    assert drill.ok, drill.checks
    assert drill.rto_seconds and drill.rpo_seconds is not None
    assert Drill.objects.get(pk=drill.drill_id).ok
    counts = next(c for c in drill.checks if c.name == "row counts")
    assert "tables equal to the source" in counts.detail  # bulk and ledger among them, as at the drill's moment
    assert Backup.objects.get(pk=drill.backup_id).proven_by_drill_id == uuid.UUID(drill.drill_id)


def test_a_drill_of_a_random_point_in_time_between_the_oldest_backup_and_now(peer, db):
    pg_backups.take(peer.pgbackrest, "incr", repos=(1,))
    with peer.connect() as connection:
        connection.execute("INSERT INTO ledger (note) VALUES ('during the window')")
    oldest = pg_drills.oldest_restorable(peer.pgbackrest, 1)
    before = datetime.datetime.now(datetime.UTC)
    drill = pg_drills.run(peer.pgbackrest, port=free_port(), point_in_time=True, rng=random.Random(16),
                          source_dsn={"host": str(peer.cluster.socket_dir), "port": peer.cluster.port,
                                      "user": "postgres"})
    assert drill.ok, drill.checks
    assert drill.point_in_time and oldest <= drill.target_time <= before
    assert drill.restored_time is not None and drill.restored_time <= drill.target_time
    stored = Drill.objects.get(pk=drill.drill_id)
    assert stored.target_time == drill.target_time and stored.rpo_seconds == drill.rpo_seconds


def test_row_counts_must_equal_the_source_at_the_moment():
    moment = datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    source = pg_drills.SourceAt(moment, before={"a": 3, "b": 5}, after={"a": 3, "b": 6})  # b written in that instant
    assert pg_drills._row_counts(source, {"a": 3, "b": 6}).ok
    assert pg_drills._row_counts(source, {"a": 3, "b": 5}).ok
    assert not pg_drills._row_counts(source, {"a": 2, "b": 5}).ok
    missing = pg_drills._row_counts(source, {"b": 5})
    assert not missing.ok and "a: 3 at the source, no table restored" in missing.detail


def test_retention_expires_full_backups_outside_the_catalogue(peer, db):
    pg_backups.take(peer.pgbackrest, "full", repos=(1,))
    fulls = [b["label"] for b in peer.pgbackrest.backups(1) if b["type"] == "full"]
    assert len(fulls) >= 2
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=400)
    done = pg_backups.expire(peer.pgbackrest, 1, now=later, policy=retention.Policy(days=1, weeks=0, months=0))
    assert done.kept == [fulls[-1]] and set(done.expired) == set(fulls[:-1])
    assert [b["label"] for b in peer.pgbackrest.backups(1) if b["type"] == "full"] == [fulls[-1]]


def _bastion_schema_into(peer, database: str) -> None:
    """Bastion's tables in the peer cluster: the test database's schema, dumped and loaded (no migration run)."""
    from django.db import connection

    from bastion.backups.pg_cluster import PG_BIN

    source = connection.settings_dict
    dump = subprocess.run([str(PG_BIN / "pg_dump"), "--schema-only", "--no-owner", "--no-privileges",
                           "-h", source["HOST"] or "localhost", "-p", str(source["PORT"] or 5432),
                           "-U", source["USER"], source["NAME"]], env={**os.environ, "PGPASSWORD": source["PASSWORD"]},
                          capture_output=True, text=True, check=True)
    with peer.connect() as admin:
        admin.execute(f'CREATE DATABASE "{database}"')
    loaded = subprocess.run([str(PG_BIN / "psql"), "-q", "-v", "ON_ERROR_STOP=1", "-h", str(peer.cluster.socket_dir),
                             "-p", str(peer.cluster.port), "-U", "postgres", "-d", database],
                            input=dump.stdout, capture_output=True, text=True)
    assert loaded.returncode == 0, loaded.stderr[-2000:]


@pytest.mark.postgres_only
def test_a_person_erased_after_the_backup_is_erased_again_before_the_restored_copy_serves(peer, db, django_user_model):
    """Issue 17 part 5 on PostgreSQL: Bastion's database in the pgBackRest cluster, a backup, an erasure
    after it (in the erasure ledger beside the anchors), a point-in-time restore to before the erasure:
    the restore replays the ledger into the copy, so the copy never holds the person again."""
    from bastion.backups import restored_database
    from bastion.privacy import erasure, ledger
    from bastion.privacy.models import LedgerApplied
    from tests.conftest import _make_org

    database = f"bastion_erasure_{os.getpid()}"
    _bastion_schema_into(peer, database)
    live = {"host": str(peer.cluster.socket_dir), "port": peer.cluster.port, "name": database}
    with restored_database.postgresql(**live):
        acme, globex = _make_org("acme", "Acme", django_user_model), _make_org("globex", "Globex", django_user_model)
    person, outsider = acme.users["viewer"], globex.users["viewer"]
    assert pg_backups.take(peer.pgbackrest, "full", repos=(1,)).ok
    time.sleep(1.1)
    with peer.connect() as connection:
        moment = connection.execute("SELECT now()").fetchone()[0]
    time.sleep(1.1)
    with restored_database.postgresql(**live):
        erasure.erase_person(person.pk)
        assert erasure.is_erased(django_user_model.objects.get(pk=person.pk))
    peer.pgbackrest.check()
    started = datetime.datetime.now(datetime.UTC)
    restored = pg_backups.restore(peer.pgbackrest, peer.base / "erased-again", free_port(), target_time=moment,
                                  repo=1, database=database)
    try:
        assert restored.erasures.ok and restored.erasures.replayed == [f"person-erased {person.pk} (entry 1)"]
        with restored_database.postgresql(host=str(restored.cluster.socket_dir), port=restored.cluster.port,
                                          name=database):
            again = django_user_model.objects.get(pk=person.pk)
            assert erasure.is_erased(again) and not again.is_active and again.first_name == ""
            assert not django_user_model.objects.filter(email=person.email).exists()
            assert django_user_model.objects.get(pk=outsider.pk).email == outsider.email
            assert ledger.came_back() == [] and ledger.pending(ledger.read()) == []
            # Erased by the replay (the copy is from before the erasure), not found erased already.
            assert LedgerApplied.objects.get(seq=1).applied_at >= started
    finally:
        pg_cluster.stop(restored.cluster)
