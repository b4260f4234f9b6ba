"""Committed read-access logs, and tampering with them as an attacker with database access would.

On PostgreSQL the organisation is made and tampered with as a superuser (triggers switched off by
``session_replication_role``) and batches are appended by threads on their own connections, so that
jobs and other connections see them; on SQLite (one writer at a time) all of it happens in the test's
transaction, the append-only triggers dropped first."""

from __future__ import annotations

import uuid

from django.db import connection, transaction

from bastion.access_log import recording
from bastion.tenancy import context
from bastion.tenancy.models import Organisation
from tests.audit import db_tampering as audit_tampering
from tests.audit.db_tampering import forget, on_postgres, superuser_connection

TABLES = ("access_log_accessbatch", "access_log_accessloghead")


def committed_organisation() -> uuid.UUID:
    organisation_id = uuid.uuid4()
    slug = f"c-{organisation_id.hex[:20]}"
    if on_postgres():
        with superuser_connection() as conn:
            conn.execute("INSERT INTO tenancy_organisation (id, slug, name, created_at, mfa_required)"
                         " VALUES (%s, %s, 'Committed', now(), false)", (organisation_id, slug))
    else:
        Organisation.objects.create(id=organisation_id, slug=slug, name="Committed")
    return organisation_id


def append(organisation_id: uuid.UUID, count: int, lock_timeout: str | None = None) -> list:
    made = []
    for i in range(count):
        with transaction.atomic():
            if lock_timeout:
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
            context.activate(organisation_id)
            made.append(recording.record(organisation_id, "export", [("project", f"p{i}")]))
    return made


def tamper(sql: str, params: tuple = ()) -> None:
    audit_tampering.tamper(sql, params, append_only=("access_log_accessbatch",))


def forget_organisation(organisation_id: uuid.UUID) -> None:
    """Remove a committed organisation, its log and its audit chain (PostgreSQL); on SQLite the
    test's rollback does it."""
    if on_postgres():
        forget(str(organisation_id))
        with superuser_connection() as conn:
            conn.execute("SET session_replication_role = replica")
            for table in TABLES:
                conn.execute(f"DELETE FROM {table} WHERE organisation_id = %s", (organisation_id,))
            conn.execute("DELETE FROM tenancy_organisation WHERE id = %s", (organisation_id,))
