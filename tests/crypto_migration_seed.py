"""Run as a script by tests/crypto/test_existing_data_is_encrypted.py: writes a supplier and an
evidence file the way the schema before encryption stored them (clear text, the file in clear in
object storage), as the owner role, in its organisation's context."""

import hashlib
import os
import sys
import uuid
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bastion.settings")
django.setup()

from django.db import connection, transaction  # noqa: E402

organisation, workspace, project, supplier, evidence = (str(uuid.uuid4()) for _ in range(5))
CLEAR_FILE = b"%PDF-1.4\nLegacy invoice 4711 in clear\n"
storage_key = f"org/{organisation}/evidence/{evidence}"
clear_path = Path(os.environ["BASTION_DATA_DIR"], "objects", storage_key)
clear_path.parent.mkdir(parents=True)
clear_path.write_bytes(CLEAR_FILE)


def uid(value: str) -> str:
    return value if connection.vendor == "postgresql" else uuid.UUID(value).hex


with transaction.atomic(), connection.cursor() as cursor:
    if connection.vendor == "postgresql":
        cursor.execute("SELECT set_config('bastion.org_id', %s, true)", [organisation])
    cursor.execute("INSERT INTO tenancy_organisation (id, slug, name, created_at) VALUES (%s, 'legacy', 'Legacy', CURRENT_TIMESTAMP)",
                   [uid(organisation)])
    cursor.execute("INSERT INTO tenancy_workspace (id, organisation_id, name, description, created_at)"
                   " VALUES (%s, %s, 'W', '', CURRENT_TIMESTAMP)", [uid(workspace), uid(organisation)])
    cursor.execute("INSERT INTO tenancy_project (id, organisation_id, workspace_id, name, description, created_at)"
                   " VALUES (%s, %s, %s, 'P', '', CURRENT_TIMESTAMP)", [uid(project), uid(organisation), uid(workspace)])
    cursor.execute(
        "INSERT INTO records_supplier (id, organisation_id, project_id, name, country, contact_name, contact_email,"
        " contract_value, notes, created_at, updated_at)"
        " VALUES (%s, %s, %s, 'Old Supplier', 'GB', 'Jane Legacy', 'jane@legacy.example', 12345.67, '',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [uid(supplier), uid(organisation), uid(project)],
    )
    cursor.execute(
        "INSERT INTO records_evidencefile (id, organisation_id, project_id, filename, content_type, size, sha256,"
        " storage_key, created_at, updated_at)"
        " VALUES (%s, %s, %s, 'invoice.pdf', 'application/pdf', %s, %s, %s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        [uid(evidence), uid(organisation), uid(project), len(CLEAR_FILE), hashlib.sha256(CLEAR_FILE).hexdigest(),
         storage_key],
    )
sys.stdout.write(f"{organisation} {supplier} {evidence}\n")
