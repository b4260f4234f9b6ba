"""``bastion keys rotate --audit-signing``: a new Ed25519 key signs checkpoints, the old public key
stays published and keeps verifying the checkpoints it signed, the old private key is gone; audited."""

from __future__ import annotations

import base64
import io
import stat

import pytest
from django.db import transaction

from bastion import cli
from bastion.audit import signing
from bastion.audit.export import export_lines
from bastion.audit.models import AuditEvent, Checkpoint
from bastion.audit.offline import verify_lines
from bastion.audit.verification import verify_chain
from bastion.commands.audit import CommandError
from bastion.commands.keys import rotate_audit_signing
from bastion.db.rls import set_setting
from tests.audit.db_tampering import _append, committed, forget, make_chain


@pytest.fixture
def own_keys(settings, tmp_path):
    """Rotate a key of this test's own, not the session's."""
    settings.DATA_DIR = tmp_path
    signing._signing_key.cache_clear()
    yield tmp_path / "keys"
    signing._signing_key.cache_clear()


def test_old_checkpoints_keep_verifying_under_the_retired_key(db, settings, own_keys):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 4
    old_id = signing.current_key_id()
    old_seed = (own_keys / "audit-signing.ed25519").read_text()
    chain_id = make_chain(4)
    try:
        out = io.StringIO()
        assert rotate_audit_signing(out=out) == 0
        new_id = signing.current_key_id()
        assert new_id != old_id and f"{new_id} signs from now on; {old_id} stays published" in out.getvalue()
        assert (own_keys / "audit-signing.ed25519").read_text() != old_seed  # the old private key is gone
        for name in ("audit-signing.ed25519", "audit-signing-retired.pub"):
            assert stat.S_IMODE((own_keys / name).stat().st_mode) == 0o600
        assert set(signing.public_keys()) == {old_id, new_id}

        committed(_append, chain_id, 4, 4)  # the next checkpoint is signed with the new key
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            assert [c.key_id for c in Checkpoint.objects.filter(chain_id=chain_id).order_by("tree_size")] == \
                [old_id, new_id]
        assert verify_chain(chain_id).ok
        exported = verify_lines(list(export_lines(chain_id)))
        assert exported.ok and exported.checkpoints == 2, exported.problems

        with transaction.atomic():
            set_setting("bastion.scope", "platform")
            event = AuditEvent.objects.filter(action="audit.signing_key.rotated").latest("id")
        assert event.changes == {"retired_key_id": old_id, "key_id": new_id}
        published = {k["key_id"] for k in _public_keys(settings)}
        assert {old_id, new_id} <= published
    finally:
        forget(chain_id)


def _public_keys(settings):
    from django.test import Client

    return Client().get("/api/v1/audit/public-keys").json()["keys"]


def test_the_cli_rotates_and_refuses_a_key_from_the_environment(db, own_keys, monkeypatch, capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["keys", "rotate", "--audit-signing"])
    assert done.value.code == 0 and "rotated the audit signing key" in capsys.readouterr().out

    with pytest.raises(SystemExit) as usage:
        cli.main(["keys", "rotate", "--audit-signing", "--org", "acme"])
    assert usage.value.code == 2 and "takes no --org" in capsys.readouterr().err

    monkeypatch.setenv("BASTION_AUDIT_SIGNING_KEY", base64.b64encode(bytes(32)).decode())
    with pytest.raises(SystemExit) as refused:
        cli.main(["keys", "rotate", "--audit-signing"])
    assert refused.value.code == 2
    assert "comes from BASTION_AUDIT_SIGNING_KEY" in capsys.readouterr().err
    with pytest.raises(CommandError):
        rotate_audit_signing()
