"""``bastion-verify EXPORT --trusted-checkpoint FILE``: a checkpoint the customer saved earlier proves,
by an RFC 9162 consistency proof, that today's log extends it; a fork fails with a clear message.
Attack (c) of issue 13: the database rewritten and the local witness log edited too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bastion.audit import export as audit_export
from bastion.audit.checkpoints import anchor_pending
from tests.audit.db_tampering import _append, committed, forget, make_chain, rewrite_consistently
from tests.audit.test_offline_verifier import OTHER_KEY, assemble, checkpoint, make_events, to_lines


def _bastion_verify(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bastion.audit.offline", *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def _write(path, records) -> str:
    path.write_text("".join(to_lines(records)))
    return str(path)


def test_a_log_that_extends_the_saved_checkpoint_passes(tmp_path):
    events = make_events(12)
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(checkpoint(events, 5)))  # saved when the log had 5 events
    export = _write(tmp_path / "today.jsonl", assemble(events, (4, 8, 12)))
    result = _bastion_verify(export, "--trusted-checkpoint", saved)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "extends your trusted checkpoint at tree_size 5" in result.stdout


def test_a_rewritten_log_re_signed_by_the_operator_is_a_fork(tmp_path):
    """Even the holder of the signing key cannot rewrite what a customer saved a checkpoint of."""
    events = make_events(12)
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(checkpoint(events, 8)))
    forged = make_events(12)
    forged[2]["body"]["actor"]["label"] = "framed"
    from bastion.audit import format

    prev = format.GENESIS_HASH
    for event in forged:  # every hash recomputed, every checkpoint re-signed with the platform's key
        event["prev_hash"] = prev.hex()
        prev = format.entry_hash(prev, event["body"])
        event["hash"] = prev.hex()
    export = _write(tmp_path / "today.jsonl", assemble(forged, (4, 8, 12)))
    assert _bastion_verify(export).returncode == 0  # consistent in itself
    result = _bastion_verify(export, "--trusted-checkpoint", saved)
    assert result.returncode == 1
    assert "trusted checkpoint at tree_size 8: the log has forked" in result.stdout


def test_a_log_shorter_than_the_saved_checkpoint_is_a_fork(tmp_path):
    events = make_events(12)
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(checkpoint(events, 12)))
    export = _write(tmp_path / "today.jsonl", assemble(events[:8], (4, 8)))
    result = _bastion_verify(export, "--trusted-checkpoint", saved)
    assert result.returncode == 1 and "the export holds only 8 events" in result.stdout


def test_a_saved_checkpoint_not_signed_by_the_platform_is_refused(tmp_path):
    events = make_events(8)
    saved = tmp_path / "saved.json"
    saved.write_text(json.dumps(checkpoint(events, 4, key=OTHER_KEY)))
    export = _write(tmp_path / "today.jsonl", assemble(events, (4, 8)))
    result = _bastion_verify(export, "--trusted-checkpoint", saved)
    assert result.returncode == 1 and "signature does not verify with a trusted key" in result.stdout


@pytest.mark.parametrize("content, reason", [
    ("not json", "not valid JSON"),
    ('{"body": {}, "signature": 3}', "needs body (object) and signature (string)"),
    ('{"body": {"tree_size": -1, "root_hash": "00"}, "signature": ""}', "tree_size or root_hash is malformed"),
])
def test_a_malformed_saved_checkpoint_is_a_usage_error(tmp_path, content, reason):
    saved = tmp_path / "saved.json"
    saved.write_text(content)
    export = _write(tmp_path / "today.jsonl", assemble(make_events(4), (4,)))
    result = _bastion_verify(export, "--trusted-checkpoint", saved)
    assert result.returncode == 2 and reason in result.stderr and "Traceback" not in result.stderr
    assert _bastion_verify(export, "--trusted-checkpoint", tmp_path / "missing.json").returncode == 2


def _export(chain_id: str, path) -> str:
    path.write_text("".join(audit_export.export_lines(chain_id)))
    return str(path)


def test_a_rewrite_with_checkpoints_and_witness_log_destroyed_is_caught_by_the_saved_checkpoint(
        db, settings, audit_witness, tmp_path):
    """(c) the attacker rewrites an early event consistently, deletes every checkpoint row, resets the
    head and edits the local witness log: the customer's checkpoint, saved before, still catches it."""
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 4
    chain_id = make_chain(10)
    try:
        assert committed(anchor_pending).ok
        witness = audit_witness / f"{chain_id}.jsonl"
        saved = tmp_path / "saved-checkpoint.json"
        saved.write_text(witness.read_text().splitlines()[-1])  # the customer's copy of checkpoint 8
        intact = _bastion_verify(_export(chain_id, tmp_path / "before.jsonl"), "--trusted-checkpoint", saved)
        assert intact.returncode == 0, intact.stdout

        committed(_append, chain_id, 2, 10)
        rewrite_consistently(chain_id, 2, drop_checkpoints=True)
        witness.write_text("")  # the witness log edited too
        result = _bastion_verify(_export(chain_id, tmp_path / "after.jsonl"), "--trusted-checkpoint", saved)
        assert result.returncode == 1, result.stdout
        assert "trusted checkpoint at tree_size 8: the log has forked" in result.stdout
    finally:
        forget(chain_id)
