"""An export made from the database verifies offline; the same export tampered does not."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

from bastion.audit import signing
from bastion.audit.export import export_lines
from bastion.audit.offline import verify_lines
from tests.audit.db_tampering import forget, make_chain


def test_a_database_export_verifies_offline_with_the_pinned_key(db, settings, tmp_path):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 5
    chain_id = make_chain(23)
    try:
        lines = list(export_lines(chain_id))
    finally:
        forget(chain_id)
    public_key = signing.raw_public(signing.signing_key().public_key())
    result = verify_lines(lines, public_key=public_key)
    assert result.ok, result.problems
    assert (result.events, result.checkpoints) == (23, 4)

    # The standalone command, in a process without Django settings, agrees.
    path = tmp_path / "audit.jsonl"
    path.write_text("".join(lines))
    command = [sys.executable, "-m", "bastion.audit.offline", str(path), "--public-key",
               base64.b64encode(public_key).decode()]
    ok = subprocess.run(command, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert ok.returncode == 0, ok.stdout + ok.stderr

    edited = [json.loads(line) for line in lines]
    edited[9]["body"]["actor"]["label"] = "someone else"  # event 9 (line 0 is the header)
    path.write_text("".join(json.dumps(record) + "\n" for record in edited))
    broken = subprocess.run(command, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert broken.returncode == 1
    assert "sequence 9" in broken.stdout


def test_an_empty_chain_exports_and_verifies(db):
    import uuid

    result = verify_lines(list(export_lines(str(uuid.uuid4()))))
    assert result.ok and result.events == 0
