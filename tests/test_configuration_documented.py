"""Every BASTION_* variable the settings read is in the README's configuration table, so an
operator can find each one (a row may abbreviate siblings: `BASTION_SMTP_HOST`, `_PORT`, …)."""

from __future__ import annotations

import re

from tests.live_server import ROOT

READ = re.compile(r"""\b(?:env|env_int|env_bool|env_list|env_secret|os\.environ\.get|_FILE)\w*\(\s*f?["'](BASTION_[A-Z0-9_]+)["']""")


def _read_by_settings() -> set[str]:
    """What settings.py reads, and any module that reads a variable itself (the audit signing keys)."""
    names = set()
    for path in (ROOT / "src" / "bastion").rglob("*.py"):
        names |= set(READ.findall(path.read_text()))
    return names


def _documented() -> set[str]:
    names = set()
    for line in (ROOT / "README.md").read_text().splitlines():
        if not line.startswith("| `BASTION_"):
            continue
        cells = line.split("|")
        names |= set(re.findall(r"`(BASTION_[A-Z0-9_]+)`", "|".join(cells[2:])))  # e.g. an old name, refused
        full = None
        for span in re.findall(r"`([A-Z0-9_<>]+)`", cells[1]):
            if span.startswith("BASTION_"):
                full = span
                names.add(span)
            elif span.startswith("_") and full is not None:
                names.add(full.rsplit("_", 1)[0] + span)  # `BASTION_SMTP_HOST`, `_PORT` → BASTION_SMTP_PORT
    return names


def test_every_variable_the_settings_read_is_in_the_readme():
    read = _read_by_settings()
    assert len(read) > 40  # the pattern still finds the settings' reads
    missing = sorted(read - _documented())
    assert missing == [], f"add these to the README's configuration table: {missing}"


def test_the_old_trusted_origins_name_is_refused_not_ignored(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path), "BASTION_TRUSTED_ORIGINS": "https://app.example"}
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_ADMIN_URL", None)
    done = subprocess.run([sys.executable, "-m", "bastion.cli", "audit", "verify", "--no-record"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "BASTION_ALLOWED_ORIGINS" in done.stderr
    assert "Traceback" not in done.stderr
