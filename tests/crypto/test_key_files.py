"""Key files: made 0600; any command refuses to run, in one clear line, while one is readable by others."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.live_server import ROOT

pytestmark = pytest.mark.own_cluster  # its own SQLite installation (bastion commands in subprocesses) whatever the suite's database


def _bastion(data_dir: Path, *args):
    env = {**os.environ, "BASTION_DATA_DIR": str(data_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_ADMIN_URL", None)
    return subprocess.run([sys.executable, "-m", "bastion.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_key_files_are_created_private_and_an_exposed_one_stops_every_command():
    data_dir = Path(tempfile.mkdtemp(prefix="bastion-keys-"))
    assert _bastion(data_dir, "migrate", "--quiet").returncode == 0
    # The first key made here is an organisation's KEK (the first encryption makes it).
    owner = "0b5e1c2a-7d4e-4f00-9a1b-2c3d4e5f6a7b"
    result = _bastion(data_dir, "manage", "shell", "-c",
                      f"from bastion.crypto import kms; kms.provider().wrap(b'k' * 32, b'ctx', owner='{owner}')")
    assert result.returncode == 0, result.stderr
    assert _bastion(data_dir, "audit", "verify").returncode == 0  # makes the audit signing key
    keys = data_dir / "keys"
    assert sorted(p.name for p in keys.iterdir()) == ["audit-signing.ed25519", "orgs"]
    for key in keys.rglob("*"):
        expected = 0o700 if key.is_dir() else 0o600
        assert stat.S_IMODE(key.stat().st_mode) == expected, key
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700

    exposed = data_dir / "keys" / "orgs" / f"{owner}-v1.key"
    assert exposed.exists()
    exposed.chmod(0o644)
    for command in (["audit", "verify"], ["migrate"], ["manage", "check"]):
        refused = _bastion(data_dir, *command)
        assert refused.returncode == 2, (command, refused.stdout, refused.stderr)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and str(exposed) in lines[0] and "chmod 600" in lines[0], refused.stderr
