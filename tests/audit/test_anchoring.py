"""Checkpoints are required and anchored outside the database (the local witness log): the attacks
of issue 13 done as a database superuser would, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime
import json
import os
import stat

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from bastion.audit import alerts
from bastion.audit.checkpoints import anchor_pending, checkpoint_due
from bastion.audit.models import ChainHead, Checkpoint
from bastion.audit.verification import verify_chain
from bastion.db.rls import set_setting
from bastion.operations.tasks import audit_checkpoints
from tests.audit.db_tampering import _append, committed, forget, make_chain, rewrite_consistently, tamper

WINDOW = datetime.timedelta(seconds=120)  # twice BASTION_AUDIT_CHECKPOINT_SECONDS (60)


def later(seconds: float):
    """A clock ``seconds`` ahead of now."""
    return lambda: timezone.now() + datetime.timedelta(seconds=seconds)


@pytest.fixture
def anchored_chain(db, settings):
    """A chain of 10 events, checkpoints at 4 and 8, both anchored in the witness log."""
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 4
    chain_id = make_chain(10)  # anchored after each signing transaction commits (PostgreSQL), or:
    assert committed(anchor_pending).ok  # by the periodic job (SQLite: the test's transaction never commits)
    assert _head(chain_id).anchored_size == 8
    yield chain_id
    forget(chain_id)


def _head(chain_id: str) -> ChainHead:
    with transaction.atomic():
        set_setting("bastion.org_id", chain_id)
        return ChainHead.objects.get(chain_id=chain_id)


def _witness_records(witness, chain_id: str) -> list[dict]:
    return [json.loads(line) for line in (witness / f"{chain_id}.jsonl").read_text().splitlines()]


def test_an_intact_anchored_chain_verifies(anchored_chain, audit_witness):
    report = verify_chain(anchored_chain)
    assert report.ok, report.message
    assert [r["body"]["tree_size"] for r in _witness_records(audit_witness, anchored_chain)] == [4, 8]
    assert _head(anchored_chain).anchored_size == 8


def test_the_witness_log_is_private_and_append_only(anchored_chain, audit_witness):
    assert stat.S_IMODE(audit_witness.stat().st_mode) == 0o700
    assert stat.S_IMODE((audit_witness / f"{anchored_chain}.jsonl").stat().st_mode) == 0o600
    audit_witness.chmod(0o755)
    try:
        run = committed(anchor_pending)  # nothing pending: the directory is not even opened
        assert run.ok
        from bastion.audit import anchoring

        with pytest.raises(anchoring.AnchorError, match="open to group or others"):
            anchoring.store().put(anchored_chain, {"body": {"tree_size": 99}})
    finally:
        audit_witness.chmod(0o700)


def test_a_consistent_rewrite_with_checkpoints_kept_is_detected(anchored_chain):
    """(a) an early event changed, every later hash and the head recomputed: the signed root differs."""
    rewrite_consistently(anchored_chain, 2)
    report = verify_chain(anchored_chain)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert "checkpoint at tree size 4" in report.message and "root does not match" in report.message


def test_a_consistent_rewrite_with_every_checkpoint_row_deleted_is_detected(anchored_chain):
    """(b) the same, and the checkpoint table emptied and the head reset: the witness still has them."""
    rewrite_consistently(anchored_chain, 2, drop_checkpoints=True)
    report = verify_chain(anchored_chain)
    assert not report.ok
    assert report.first_bad_seq == 4
    assert "tree size 4 is in the anchor store but missing from the database" in report.message


def test_without_the_witness_uncovered_old_events_fail_once_the_interval_passes(anchored_chain, settings, tmp_path):
    """(b) even with the witness gone, events older than the window must be under a checkpoint."""
    rewrite_consistently(anchored_chain, 2, drop_checkpoints=True)
    settings.BASTION_AUDIT_ANCHOR_URL = str(tmp_path / "empty-witness")
    assert verify_chain(anchored_chain).ok  # within the documented window
    report = verify_chain(anchored_chain, clock=later(WINDOW.total_seconds() + 1))
    assert not report.ok and report.first_bad_seq == 1
    assert "not covered by a signed checkpoint" in report.message


def test_deleting_one_checkpoint_row_is_detected(anchored_chain):
    tamper("DELETE FROM audit_checkpoint WHERE chain_id = %s AND tree_size = 4", (anchored_chain,))
    report = verify_chain(anchored_chain)
    assert not report.ok and report.first_bad_seq == 4
    assert "missing from the database" in report.message


def test_checkpoints_more_than_the_cadence_apart_are_detected(anchored_chain, settings, tmp_path):
    settings.BASTION_AUDIT_ANCHOR_URL = str(tmp_path / "empty-witness")  # only the database's own rows
    tamper("DELETE FROM audit_checkpoint WHERE chain_id = %s AND tree_size = 4", (anchored_chain,))
    report = verify_chain(anchored_chain)
    assert not report.ok and report.first_bad_seq == 4
    assert "more than 4 events apart" in report.message


def test_a_head_that_disagrees_with_the_checkpoints_is_detected(anchored_chain):
    tamper("UPDATE audit_chainhead SET checkpointed_size = 2 WHERE chain_id = %s", (anchored_chain,))
    report = verify_chain(anchored_chain)
    assert not report.ok and "the head records a checkpoint at tree size 2" in report.message


def test_a_checkpoint_differing_from_the_anchored_one_is_detected(anchored_chain):
    tamper("UPDATE audit_checkpoint SET time = '2020-01-01T00:00:00.000000Z' WHERE chain_id = %s AND tree_size = 8",
           (anchored_chain,))
    report = verify_chain(anchored_chain)
    assert not report.ok and report.first_bad_seq == 8
    assert "differs from the anchored one" in report.message


def test_an_edited_witness_record_is_detected(anchored_chain, audit_witness):
    path = audit_witness / f"{anchored_chain}.jsonl"
    records = _witness_records(audit_witness, anchored_chain)
    records[0]["body"]["root_hash"] = "00" * 32
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    report = verify_chain(anchored_chain)
    assert not report.ok and report.first_bad_seq == 4
    assert "anchor store's checkpoint at tree size 4: signature does not verify" in report.message


def test_rewriting_events_newer_than_the_last_checkpoint(db, settings):
    """(d) events after the last checkpoint may be rewritten until the next interval: once it has passed
    they must be signed, and once signed (and anchored) a rewrite is detected."""
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 1000
    chain_id = make_chain(5)
    try:
        assert chain_id in committed(checkpoint_due, later(60))  # other chains committed by earlier tests may be due too
        assert committed(anchor_pending).ok
        committed(_append, chain_id, 3, 5)  # sequences 6, 7, 8: not signed yet
        rewrite_consistently(chain_id, 7)
        assert verify_chain(chain_id).ok  # inside the window
        report = verify_chain(chain_id, clock=later(WINDOW.total_seconds() + 1))
        assert not report.ok and report.first_bad_seq == 6
        assert "sequence 6: written" in report.message and "not covered by a signed checkpoint" in report.message

        committed(_append, chain_id, 2, 8)  # 9, 10: the periodic job signs and anchors them a minute later
        assert chain_id in committed(checkpoint_due, later(60))
        assert committed(anchor_pending).ok
        rewrite_consistently(chain_id, 9, drop_checkpoints=True)
        report = verify_chain(chain_id)
        assert not report.ok and report.first_bad_seq == 5
        assert "tree size 5 is in the anchor store but missing from the database" in report.message
    finally:
        forget(chain_id)


def test_the_job_checkpoints_only_chains_whose_oldest_unsigned_event_is_due(db, settings):
    settings.BASTION_AUDIT_CHECKPOINT_SECONDS = 300
    chain_id = make_chain(3)
    try:
        assert chain_id not in committed(checkpoint_due)  # written just now: due in 240 s
        assert chain_id in committed(checkpoint_due, later(241))
    finally:
        forget(chain_id)


def test_a_store_that_is_down_delays_the_anchor_never_loses_it(db, settings, tmp_path):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 3
    settings.BASTION_ALERT_EMAILS = ["platform-admins@example.com"]
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.BASTION_AUDIT_ANCHOR_URL = str(blocker / "witness")
    alerts.anchoring_succeeded()
    chain_id = make_chain(3)
    try:
        pauses: list[float] = []
        run = committed(lambda: anchor_pending(sleep=pauses.append))
        assert run.failed and run.failed[0][:2] == (chain_id, 3)
        assert pauses == [0.2, 1.0]  # three attempts
        assert _head(chain_id).anchored_size == 0
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            assert Checkpoint.objects.filter(chain_id=chain_id, tree_size=3).exists()  # kept
        report = verify_chain(chain_id)
        assert not report.ok and "cannot read the anchor store" in report.message

        committed(audit_checkpoints.call_local)  # the periodic job: fails again, alerts once
        committed(audit_checkpoints.call_local)
        assert [m.subject for m in mail.outbox] == ["[Bastion] audit anchoring failing for 1 chain(s)"]
        from prometheus_client import REGISTRY

        assert REGISTRY.get_sample_value("bastion_audit_unanchored_chains") == 1

        settings.BASTION_AUDIT_ANCHOR_URL = str(tmp_path / "witness-back")  # the store is back, still without it
        report = verify_chain(chain_id, clock=later(WINDOW.total_seconds() + 1))
        assert not report.ok and report.first_bad_seq == 3
        assert "still not in the anchor store" in report.message
        committed(audit_checkpoints.call_local)
        assert _head(chain_id).anchored_size == 3
        assert verify_chain(chain_id, clock=later(WINDOW.total_seconds() + 1)).ok
        assert REGISTRY.get_sample_value("bastion_audit_unanchored_chains") == 0
    finally:
        alerts.anchoring_succeeded()
        forget(chain_id)


def test_a_bad_anchor_url_is_a_configuration_error():
    from bastion.audit import anchoring
    from bastion.config import ConfigError

    for url in ("relative/dir", "ftp://host/x", "s3://bucket?region=x&colour=red"):
        with pytest.raises(ConfigError, match="BASTION_AUDIT_ANCHOR_URL"):
            anchoring.parse_url(url, 1)
    assert isinstance(anchoring.parse_url("file:///var/witness", 1), anchoring.LocalWitness)
    assert os.path.isabs(str(anchoring.parse_url("/var/witness", 1).directory))
