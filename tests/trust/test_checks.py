"""Breaking a control on purpose flips exactly its claim at the next run; repairing it flips it
back. Each run is stored, signed with the platform key and appended to the platform audit chain."""

from __future__ import annotations

import base64
import datetime
import os
import stat
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import connection
from django.utils import timezone

from bastion.audit import signing
from bastion.audit.models import AuditEvent
from bastion.backups.models import Backup, Drill
from bastion.commands import trust as trust_command
from bastion.db.platform import PLATFORM_ID
from bastion.db.rls import setting
from bastion.trust import runs, signature
from bastion.trust.audit_actions import CHECKS_RUN
from tests.audit.db_tampering import superuser_connection


def _results(**kwargs) -> dict[str, str]:
    return {r.check_id: r.result for r in runs.run_all(**kwargs).results}


def _baseline() -> dict[str, str]:
    """The results of a second run: the first has no previous run to find (trust.last_run_recent)."""
    runs.run_all()
    return _results()


def _flipped(before: dict[str, str], after: dict[str, str]) -> set[str]:
    return {check for check in before if before[check] != after[check]}


@pytest.fixture
def enrolled(world):
    """Every owner and admin of acme and globex with a TOTP authenticator."""
    for organisation in (world.acme, world.globex):
        for role in ("owner", "admin"):
            Authenticator.objects.create(user=organisation.users[role], type=Authenticator.Type.TOTP,
                                         data={"secret": "sealed elsewhere"})
    return world


@pytest.fixture
def healthy_backups(db):
    now = timezone.now()
    backup = Backup.objects.create(engine="sqlite", type="full", repository="/backups", started_at=now,
                                   finished_at=now, status="ok")
    Drill.objects.create(backup=backup, started_at=now, finished_at=now, ok=True, rto_seconds=3.0, rpo_seconds=1.0)
    return backup


def test_an_admin_without_an_authenticator_flips_only_the_mfa_claim(enrolled):
    before = _baseline()
    assert before["identity.mfa_privileged"] == "pass"
    factor = Authenticator.objects.get(user=enrolled.acme.users["admin"])
    factor.delete()
    broken = _results()
    assert _flipped(before, broken) == {"identity.mfa_privileged"}
    assert broken["identity.mfa_privileged"] == "fail"
    Authenticator.objects.create(user=enrolled.acme.users["admin"], type=Authenticator.Type.TOTP, data={})
    assert _results()["identity.mfa_privileged"] == "pass"


def test_a_key_file_readable_by_others_flips_only_the_file_claim(world):
    signing.signing_key()  # the platform key exists (and is loaded) before it is exposed
    key = Path(settings.DATA_DIR) / "keys" / signing.KEY_FILE_NAME
    before = _baseline()
    assert before["files.private_modes"] == "pass"
    os.chmod(key, 0o644)
    try:
        broken = _results()
        assert _flipped(before, broken) == {"files.private_modes"}
        result = runs.latest_results()["files.private_modes"]
        assert f"keys/{signing.KEY_FILE_NAME}" in result.details and result.evidence["modes"][
            f"keys/{signing.KEY_FILE_NAME}"] == "0644"
    finally:
        os.chmod(key, 0o600)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert _results()["files.private_modes"] == "pass"


def test_a_stale_backup_flips_only_the_backup_claim(world, healthy_backups):
    before = _baseline()
    assert before["backups.recent_and_drilled"] == "pass"
    Backup.objects.filter(pk=healthy_backups.pk).update(finished_at=timezone.now() - datetime.timedelta(days=2))
    broken = _results()
    assert _flipped(before, broken) == {"backups.recent_and_drilled"}
    assert "no good backup within" in runs.latest_results()["backups.recent_and_drilled"].details
    Backup.objects.create(engine="sqlite", type="full", repository="/backups", started_at=timezone.now(),
                          finished_at=timezone.now(), status="ok")
    assert _results()["backups.recent_and_drilled"] == "pass"


@pytest.mark.postgres_only
def test_rls_disabled_on_one_table_by_a_superuser_flips_only_the_rls_claim(world):
    before = _baseline()
    assert before["database.rls_forced"] == "pass" and before["database.app_role"] == "pass"
    table = "privacy_legalhold"  # a tenant table the world fixture does not write (no lock to wait for)
    with superuser_connection() as admin:
        admin.execute("SET lock_timeout = '10s'")
        admin.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
        try:
            broken = _results()
            assert _flipped(before, broken) == {"database.rls_forced"}
            assert runs.latest_results()["database.rls_forced"].evidence["broken"] == [table]
        finally:
            admin.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    assert _results()["database.rls_forced"] == "pass"


def test_the_database_checks_say_not_applicable_on_sqlite_and_pass_on_postgres(world):
    results = _results(only=["database.rls_forced", "database.app_role"])
    if connection.vendor == "postgresql":
        assert results == {"database.rls_forced": "pass", "database.app_role": "pass"}
    else:
        assert results == {"database.rls_forced": "not_applicable", "database.app_role": "not_applicable"}
        detail = runs.latest_results()["database.rls_forced"].details
        assert detail == "not applicable: embedded (SQLite, one file in the data directory)"


def test_a_run_is_signed_and_appended_to_the_platform_chain(world):
    summary = runs.run_all()
    run = summary.run
    public = Ed25519PublicKey.from_public_bytes(signing.raw_public(signing.signing_key().public_key()))
    public.verify(base64.b64decode(run.signature), signature.canonical(runs.statement(run, summary.results)))
    assert run.digest == signature.sha256(runs.statement(run, summary.results))
    with setting("bastion.scope", "platform"):
        event = AuditEvent.objects.get(chain_id=PLATFORM_ID, seq=run.audit_seq)
    assert event.action == CHECKS_RUN and event.resource_id == str(run.id)
    assert event.changes["digest"] == run.digest
    assert event.changes["results"]["hardening.headers"] == ["pass", runs.latest_results()["hardening.headers"]
                                                              .evidence_sha256]
    for result in summary.results:
        assert len(result.evidence_sha256) == 64 and result.version >= 1 and result.checked_at


def test_the_command_exits_1_when_a_check_fails_and_0_when_all_pass(enrolled, capsys):
    assert trust_command.run(only=["identity.mfa_privileged", "hardening.rate_limits"]) == 0
    Authenticator.objects.filter(user=enrolled.globex.users["owner"]).delete()
    assert trust_command.run(only=["identity.mfa_privileged"]) == 1
    out = capsys.readouterr().out
    assert "fail" in out and "1 of 4 owners and admins have no authenticator" in out


def test_the_daily_job_runs_every_check_and_counts_the_failures(world):
    from bastion.operations.tasks import trust_checks_daily

    failing = trust_checks_daily.call_local()
    newest = runs.latest_results()
    assert set(newest) == set(runs.registry())
    assert failing == sum(1 for result in newest.values() if result.result == "fail") >= 1  # no backup in tests


def test_the_retention_claim_follows_the_retention_job(world, monkeypatch):
    from bastion.privacy import retention
    from bastion.privacy.audit_actions import RETENTION_COMPLETED
    from bastion.tenancy import context
    from bastion.trust.checks import operations

    assert _baseline()["privacy.retention_ran"] == "unknown"  # a new installation: not run yet, never a pass
    retention.enforce(dry_run=True)
    assert _results()["privacy.retention_ran"] == "unknown"  # a dry run is not the job running

    retention.enforce()  # nothing is due in the world: the run is still recorded
    with context.platform_scope():
        event = AuditEvent.objects.get(chain_id=PLATFORM_ID, action=RETENTION_COMPLETED)
    assert event.changes["organisations"] == 2 and event.changes["deleted"] == 0
    assert _results()["privacy.retention_ran"] == "pass"

    # The job stops: a day and a bit later the claim fails, naming when it last ran.
    later = timezone.now() + datetime.timedelta(hours=27)
    monkeypatch.setattr(operations, "timezone", type("Clock", (), {"now": staticmethod(lambda: later)}))
    assert runs.latest_results()["privacy.retention_ran"].result == "pass"
    assert _results()["privacy.retention_ran"] == "fail"
    assert "the retention job last ran" in runs.latest_results()["privacy.retention_ran"].details
    monkeypatch.undo()
    assert _results()["privacy.retention_ran"] == "pass"
