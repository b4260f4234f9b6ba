"""On PostgreSQL the app role may not change the log at all, and even the owner is stopped by triggers."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from tests.audit.db_tampering import forget, make_chain

pytestmark = pytest.mark.postgres_only


def test_the_app_role_has_no_update_delete_or_truncate_right(db):
    for sql in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent",
                "TRUNCATE audit_auditevent"):
        with pytest.raises(DatabaseError, match="permission denied"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)


def test_the_triggers_stop_even_the_tables_owner(db):
    chain_id = make_chain(3)
    admin = settings.DATABASE_ADMIN_CREDENTIALS
    db_settings = settings.DATABASES["default"]
    try:
        with psycopg.connect(host=db_settings["HOST"], port=db_settings["PORT"] or 5432, user=admin["USER"],
                             password=admin["PASSWORD"], dbname=db_settings["NAME"], autocommit=True) as owner:
            owner.execute("SELECT set_config('bastion.org_id', %s, false)", (chain_id,))
            for sql in ("UPDATE audit_auditevent SET action = 'x' WHERE chain_id = %s",
                        "DELETE FROM audit_auditevent WHERE chain_id = %s"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    owner.execute(sql, (chain_id,))
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                owner.execute("TRUNCATE audit_auditevent")
            assert owner.execute("SELECT count(*) FROM audit_auditevent WHERE chain_id = %s",
                                 (chain_id,)).fetchone()[0] == 3
    finally:
        forget(chain_id)
    assert os.environ.get("DATABASE_ADMIN_URL")
