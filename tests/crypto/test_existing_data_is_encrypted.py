"""Upgrading a database that holds supplier contacts and evidence files in clear encrypts them in
place, and indexes the contact emails for search (both backends)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from tests.live_server import ROOT, _postgres_database


def _run(env, *args):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_migration_seals_clear_text_contacts(tmp_path):
    import os

    env = {**os.environ, "BASTION_DATA_DIR": tempfile.mkdtemp(prefix="bastion-migrate-")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with _postgres_database(env):
        _run(env, "-m", "bastion.cli", "migrate", "records", "0001", "--quiet")
        seed_env = {**env, "BASTION_DB_AS_ADMIN": "1"}
        organisation, supplier, evidence = _run(seed_env, str(Path(ROOT, "tests", "crypto_migration_seed.py"))).split()
        _run(env, "-m", "bastion.cli", "migrate", "--quiet")
        check = (
            "from bastion.tenancy import context\n"
            "from bastion.records.models import Supplier\n"
            "from django.db import connection\n"
            f"with context.tenant_context(__import__('uuid').UUID('{organisation}')):\n"
            f"    s = Supplier.objects.get(id='{supplier}')\n"
            "    print(s.contact_name, s.contact_email, s.contract_value)\n"
            "    with connection.cursor() as c:\n"
            "        c.execute('SELECT contact_name, contact_email, contract_value FROM records_supplier')\n"
            "        print(*c.fetchone())\n"
            "    from bastion.crypto.blind_index import matching\n"
            "    print(Supplier.objects.filter(matching(Supplier, 'contact_email', 'JANE@legacy.example',"
            f" organisation_id='{organisation}')).count())\n"
            "    from bastion.records.models import EvidenceFile\n"
            "    from bastion.records.evidence import open_evidence\n"
            f"    e = EvidenceFile.objects.get(id='{evidence}')\n"
            "    print(repr(open_evidence(e).read()))\n"
            "    print(e.artifact.storage_key)\n"
        )
        output = _run(env, "-m", "bastion.cli", "manage", "shell", "-c", check).strip().splitlines()
        clear, stored, found, evidence_bytes, artifact_key = output[-5:]
        objects = Path(env["BASTION_DATA_DIR"], "objects")
        stored_files = {p.relative_to(objects).as_posix(): p.read_bytes() for p in objects.rglob("*") if p.is_file()}
    assert clear == "Jane Legacy jane@legacy.example 12345.67"
    assert "Jane" not in stored and "legacy" not in stored and "12345" not in stored
    assert all(part.startswith("QkUx") for part in stored.split())  # base64 of b"BE1": the envelope format
    assert found == "1"
    assert evidence_bytes == repr(b"%PDF-1.4\nLegacy invoice 4711 in clear\n")
    # Only the encrypted copy is left in object storage; the clear one is gone.
    assert list(stored_files) == [artifact_key]
    assert stored_files[artifact_key].startswith(b"BEA1") and b"Legacy invoice" not in stored_files[artifact_key]
