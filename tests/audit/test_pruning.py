"""Pruning at the end of retention: only at a signed checkpoint boundary, through the one narrow path;
verification (database and offline) then starts from that checkpoint, and the export says so."""

from __future__ import annotations

import datetime
import json

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from bastion.audit import export, offline, pruning
from bastion.audit.audit_actions import AUDIT_EVENTS_PRUNED
from bastion.audit.checkpoints import enter_chain
from bastion.audit.models import AuditEvent
from bastion.audit.verification import verify_chain
from tests.audit.db_tampering import committed, forget, make_chain, tamper

LATER = datetime.timedelta(days=1)  # a cutoff after every event: all of them are past their retention


@pytest.fixture
def chain(db, settings):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 5
    chain_id = make_chain(12)  # signed checkpoints at 5 and 10
    yield chain_id
    forget(chain_id)


def _prune(chain_id, cutoff, **options):
    """As the retention job does it: committed (on PostgreSQL on its own connection, as db_tampering does)."""
    return committed(lambda: pruning.prune(chain_id, cutoff, **options))


def _stored(chain_id):
    with transaction.atomic():
        enter_chain(chain_id)
        return list(AuditEvent.objects.filter(chain_id=chain_id).order_by("seq").values_list("seq", "action"))


def test_events_past_retention_go_only_up_to_the_last_signed_checkpoint(chain):
    assert _prune(chain, timezone.now() - LATER).tree_size == 0  # nothing is old enough yet
    planned = _prune(chain, timezone.now() + LATER, dry_run=True)
    assert (planned.tree_size, planned.deleted) == (10, 10) and len(_stored(chain)) == 12  # a dry run deletes nothing

    outcome = _prune(chain, timezone.now() + LATER)

    assert (outcome.tree_size, outcome.deleted, outcome.problem) == (10, 10, "")
    # 11 and 12 are not under a checkpoint, so they stay; the pruning itself is audited in the chain.
    assert _stored(chain) == [(11, "audit.exported"), (12, "audit.exported"), (13, AUDIT_EVENTS_PRUNED)]
    report = verify_chain(chain)
    assert report.ok, report.message
    assert (report.starts_after, report.events) == (10, 3)


def test_the_export_says_where_it_starts_and_verifies_offline(chain, capsys, tmp_path):
    _prune(chain, timezone.now() + LATER)
    lines = list(export.export_lines(chain))
    header = offline._parse(1, lines[0])
    assert header["pruned"]["tree_size"] == 10 and "pruned at the end of their retention" in header["pruned"]["note"]
    result = offline.verify_lines(lines)
    assert result.ok, result.problems
    assert (result.starts_after, result.events) == (10, 13)
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(lines))
    assert offline.main([str(path)]) == 0
    assert "verification starts at the signed checkpoint at tree_size 10" in capsys.readouterr().out


def test_a_forged_start_is_found_offline(chain):
    _prune(chain, timezone.now() + LATER)
    lines = list(export.export_lines(chain))
    header = offline._parse(1, lines[0])
    header["pruned"]["frontier"][0][1] = "00" * 32  # not the tree the checkpoint at 10 signed
    result = offline.verify_lines([json.dumps(header), *lines[1:]])
    assert not result.ok and any("tree_size 10" in p for p in result.problems)


def test_a_forged_start_is_found_in_the_database(chain):
    _prune(chain, timezone.now() + LATER)
    forged = '[[3, "' + "00" * 32 + '"], [1, "' + "11" * 32 + '"]]'  # 8 + 2 events, not the signed ones
    tamper("UPDATE audit_prunedprefix SET frontier = %s WHERE chain_id = %s", (forged, chain))
    report = verify_chain(chain)
    assert not report.ok and report.first_bad_seq == 10


def test_an_ordinary_delete_is_still_refused_after_pruning(chain):
    _prune(chain, timezone.now() + LATER)
    with pytest.raises(DatabaseError), transaction.atomic():
        enter_chain(chain)
        AuditEvent.objects.filter(chain_id=chain, seq=11).delete()
    assert len(_stored(chain)) == 3


@pytest.mark.postgres_only
def test_on_postgresql_only_the_pruning_function_deletes_and_only_at_a_checkpoint(chain):
    _prune(chain, timezone.now() + LATER)
    admin = settings.DATABASE_ADMIN_CREDENTIALS
    db = settings.DATABASES["default"]
    with psycopg.connect(host=db["HOST"], port=db["PORT"] or 5432, user=admin["USER"], password=admin["PASSWORD"],
                         dbname=db["NAME"], autocommit=True) as owner:
        owner.execute("SELECT set_config('bastion.org_id', %s, false)", (chain,))
        # Even the table's owner cannot delete an event directly, nor call the function off a boundary.
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner.execute("DELETE FROM audit_auditevent WHERE chain_id = %s AND seq = 11", (chain,))
        with pytest.raises(psycopg.errors.RaiseException, match="no signed checkpoint"):
            owner.execute("SELECT bastion_prune_audit(%s::uuid, 12, now() + interval '1 day')", (chain,))
        assert owner.execute("SELECT count(*) FROM audit_auditevent WHERE chain_id = %s", (chain,)).fetchone()[0] == 3
    # The application role has no DELETE right on the table at all.
    with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent WHERE seq = 11")


def test_a_checkpoint_the_customer_saved_is_held_to_the_pruned_log(chain):
    from bastion.audit.checkpoints import record_of
    from bastion.audit.models import Checkpoint

    with transaction.atomic():
        enter_chain(chain)
        saved = {c.tree_size: record_of(c) for c in Checkpoint.objects.filter(chain_id=chain)}
    _prune(chain, timezone.now() + LATER)
    lines = list(export.export_lines(chain))
    extended = offline.verify_lines(lines, trusted_checkpoint=offline.load_trusted_checkpoint(
        json.dumps(saved[10])))
    assert extended.ok and extended.extends == 10
    older = offline.verify_lines(lines, trusted_checkpoint=offline.load_trusted_checkpoint(
        json.dumps(saved[5])))
    assert not older.ok and "older than the log's start" in older.problems[0]
