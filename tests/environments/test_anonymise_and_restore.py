"""No production data in staging or development: a production backup restored there is refused
(exit 2, audited) unless it is a copy made by ``bastion anonymise``, whose personal and confidential
fields are fakes, which carries no keys, sessions or audit log, and whose mark is bound to its
database (a manifest edited to claim it, or to relabel production, no longer opens its archive). Its own SQLite installation, driven by the
``bastion`` commands as an operator would (``tests/backups/installation.py``)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from bastion.backups import keys
from tests.backups import installation

pytestmark = pytest.mark.own_cluster

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@pytest.fixture(scope="module")
def site():
    return installation.new()


def _rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


def _platform_actions(site) -> list[str]:
    shown = site.bastion(
        "manage",
        "shell",
        "-c",
        "from bastion.audit.models import AuditEvent; from bastion.db.platform import PLATFORM_ID; "
        "print('\\n'.join(AuditEvent.objects.filter(chain_id=PLATFORM_ID).values_list('action', flat=True)))",
    )
    assert shown.returncode == 0, shown.stderr
    return shown.stdout.split()


def test_production_backup_is_refused_outside_production_until_anonymised(site, tmp_path):
    taken = site.bastion("backup", "now")
    assert taken.returncode == 0, taken.stderr
    backup_id = re.search(rf"backup ({UUID})", taken.stdout + taken.stderr).group(1)
    repository = Path(site.env["BASTION_BACKUP_DIR"])
    assert json.loads((repository / f"{backup_id}.json").read_text())["environment"] == "production"

    for environment in ("staging", "development"):
        refused = site.bastion(
            "backup",
            "restore",
            "--to",
            str(tmp_path / environment),
            "--backup",
            backup_id,
            BASTION_ENVIRONMENT=environment,
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "holds production data" in refused.stderr and "bastion anonymise" in refused.stderr
        assert "Traceback" not in refused.stderr and not (tmp_path / environment).exists()
    assert _platform_actions(site).count("backup.restore.refused") == 2

    made = site.bastion("anonymise", "--backup", backup_id, "--seed", "7")
    assert made.returncode == 0, made.stdout + made.stderr
    copy_id = re.search(rf"anonymised copy of backup {backup_id}: ({UUID})", made.stdout).group(1)
    mark = json.loads((repository / f"{copy_id}.json").read_text())["anonymised"]
    assert mark["source_backup"] == backup_id and len(mark["database_sha256"]) == 64
    assert "backup.anonymised" in _platform_actions(site)

    restored = tmp_path / "staging-copy"
    accepted = site.bastion(
        "backup", "restore", "--to", str(restored), "--backup", copy_id, BASTION_ENVIRONMENT="staging"
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    live, copy = site.data_dir / "bastion.sqlite3", restored / "bastion.sqlite3"

    # The same shape: the organisations, users and records are all there ...
    for table in ("tenancy_organisation", "identity_user", "records_emissionrecord", "records_supplier"):
        assert _rows(copy, f"SELECT count(*) FROM {table}") == _rows(live, f"SELECT count(*) FROM {table}"), table
    # ... but no real person's or customer's value survives anywhere in the file.
    emails = [email for (email,) in _rows(live, "SELECT email FROM identity_user")]
    names = [name for (name,) in _rows(live, "SELECT name FROM tenancy_organisation")]
    assert emails and names
    raw = copy.read_bytes()
    for secret_value in [*emails, *names]:
        assert secret_value.encode() not in raw, secret_value
    fake_emails = [email for (email,) in _rows(copy, "SELECT email FROM identity_user")]
    assert all(re.fullmatch(r"[^@\s]+@[^@\s]+\.[a-z]+", email) for email in fake_emails)
    assert len(set(fake_emails)) == len(fake_emails)
    assert _rows(copy, "SELECT count(*) FROM identity_user WHERE password NOT LIKE '!%'") == [(0,)]
    # No keys, credentials, sessions, factors or audit history.
    for table in (
        "crypto_datakey",
        "crypto_apikey",
        "crypto_credential",
        "mfa_authenticator",
        "django_session",
        "audit_auditevent",
        "audit_chainhead",
        "identity_scimtoken",
    ):
        assert _rows(copy, f"SELECT count(*) FROM {table}") == [(0,)], table
    assert not (restored / "objects").exists() and not (restored / "keys").exists()

    # Staging is given one key: the anonymised copies' KEK. With it alone the copy opens; a production
    # backup does not (its key is wrapped under the backups' own KEK, which staging never holds).
    anonymised_kek = f"{keys.ANONYMISED_KEK_OWNER}-v1.key"
    assert (site.data_dir / "keys" / "orgs" / anonymised_kek).exists()
    staging_dir = tmp_path / "staging-data"
    (staging_dir / "keys" / "orgs").mkdir(mode=0o700, parents=True)
    (staging_dir / "keys").chmod(0o700)
    shutil.copy2(site.data_dir / "keys" / "orgs" / anonymised_kek, staging_dir / "keys" / "orgs" / anonymised_kek)
    staging = {"BASTION_DATA_DIR": str(staging_dir), "BASTION_ENVIRONMENT": "staging"}
    assert site.bastion("migrate", "--quiet", **staging).returncode == 0
    assert not (staging_dir / "keys" / "orgs" / f"{keys.BACKUP_KEK_OWNER}-v1.key").exists()
    opened = site.bastion("backup", "restore", "--to", str(tmp_path / "staging-own"), "--backup", copy_id, **staging)
    assert opened.returncode == 0, opened.stdout + opened.stderr
    assert _rows(tmp_path / "staging-own" / "bastion.sqlite3", "SELECT count(*) FROM identity_user") == _rows(
        live, "SELECT count(*) FROM identity_user")
    production_there = site.bastion("backup", "restore", "--to", str(tmp_path / "staging-prod"), "--backup", backup_id,
                                    **{**staging, "BASTION_ENVIRONMENT": "production"})
    assert production_there.returncode != 0 and "Traceback" not in production_there.stderr
    assert "cannot be opened" in production_there.stdout + production_there.stderr
    assert not list((tmp_path / "staging-prod").rglob("*.sqlite3")) if (tmp_path / "staging-prod").exists() else True


@pytest.mark.parametrize("forgery", ["environment", "anonymised", "anonymised_to_its_own_database"])
def test_a_manifest_edited_to_hide_production_does_not_open_its_archive(site, tmp_path, forgery):
    """The manifest is plain JSON beside the sealed archive: its environment and anonymisation mark
    are bound into the archive's associated data, so a production backup relabelled "staging", or
    given a mark carrying its own database's digest, fails to decrypt and restores nothing."""
    taken = site.bastion("backup", "now")
    backup_id = re.search(rf"backup ({UUID})", taken.stdout + taken.stderr).group(1)
    path = Path(site.env["BASTION_BACKUP_DIR"]) / f"{backup_id}.json"
    manifest = json.loads(path.read_text())
    assert manifest["environment"] == "production"
    if forgery == "environment":
        manifest["environment"] = "staging"
    elif forgery == "anonymised":
        manifest["anonymised"] = {"source_backup": backup_id, "database_sha256": "0" * 64}
    else:  # the digest an insider with the backup key could compute from the real database
        opened = site.bastion("backup", "restore", "--to", str(tmp_path / "real"), "--backup", backup_id)
        assert opened.returncode == 0, opened.stdout + opened.stderr
        real = next((tmp_path / "real").rglob("*.sqlite3"))
        manifest["anonymised"] = {"source_backup": backup_id, "database_sha256": hashlib.sha256(real.read_bytes()).hexdigest()}
    path.write_text(json.dumps(manifest))
    refused = site.bastion(
        "backup", "restore", "--to", str(tmp_path / "x"), "--backup", backup_id, BASTION_ENVIRONMENT="staging"
    )
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "does not decrypt" in refused.stdout + refused.stderr and "Traceback" not in refused.stderr
    assert not list((tmp_path / "x").rglob("*.sqlite3")) if (tmp_path / "x").exists() else True


def test_anonymise_of_an_unknown_backup_exits_2_with_one_line(site):
    result = site.bastion("anonymise", "--backup", "00000000-0000-0000-0000-000000000000")
    assert result.returncode == 2
    assert result.stderr.startswith("bastion anonymise: ") and len(result.stderr.strip().splitlines()) == 1
