"""PostgreSQL itself keeps organisations apart: raw SQL as the app role, no ORM, no app filters."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from bastion.tenancy.models import Organisation, TenantModel

pytestmark = pytest.mark.postgres_only

TENANT_MODELS = [m for m in apps.get_models() if issubclass(m, TenantModel)]


def _set_org(org_id) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('bastion.org_id', %s, true)", [str(org_id) if org_id else ""])


def _scalar(sql: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_every_tenant_table_forces_row_level_security(db):
    tables = [m._meta.db_table for m in TENANT_MODELS] + [Organisation._meta.db_table]
    assert len(tables) >= 9
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = ANY(%s)", [tables]
        )
        found = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'")
        with_policy = {row[0] for row in cursor.fetchall()}
    for table in tables:
        assert found[table] == (True, True), f"{table} must ENABLE and FORCE row-level security"
        assert table in with_policy, f"{table} has no tenant_isolation policy"


def test_app_role_can_not_bypass(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'records_%%' AND tableowner = current_user")
        assert cursor.fetchone()[0] == 0, "the app role must not own tenant tables"
    with pytest.raises(DatabaseError, match="must be owner"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE records_emissionrecord DISABLE ROW LEVEL SECURITY")
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL row_security = off")
            cursor.execute("SELECT count(*) FROM records_emissionrecord")


def test_without_a_tenant_context_every_tenant_table_is_empty(world):
    _set_org(None)
    for model in TENANT_MODELS:
        assert _scalar(f'SELECT count(*) FROM "{model._meta.db_table}"') == 0, model.__name__


def test_raw_sql_as_organisation_a_can_not_read_or_write_organisation_b(world):
    a, b = world.acme.organisation.id, world.globex.organisation.id
    _set_org(b)
    b_rows = _scalar("SELECT count(*) FROM records_emissionrecord")
    b_activity = _scalar("SELECT string_agg(activity, ',' ORDER BY id) FROM records_emissionrecord")
    assert b_rows == 3

    _set_org(a)
    for model in TENANT_MODELS:
        table = model._meta.db_table
        assert _scalar(f'SELECT count(*) FROM "{table}" WHERE organisation_id = %s', [b]) == 0, table
        assert _scalar(f'SELECT count(*) FROM "{table}" WHERE organisation_id <> %s', [a]) == 0, table
    assert _scalar("SELECT count(*) FROM records_emissionrecord") == 3
    assert _scalar("SELECT count(*) FROM tenancy_organisation WHERE id = %s", [b]) == 0

    with connection.cursor() as cursor:
        cursor.execute("UPDATE records_emissionrecord SET activity = 'hacked' WHERE organisation_id = %s", [b])
        assert cursor.rowcount == 0
        cursor.execute("DELETE FROM records_emissionrecord WHERE organisation_id = %s", [b])
        assert cursor.rowcount == 0
    # Writing a row into B, or moving one of A's rows to B, is refused by the policy's WITH CHECK.
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO tenancy_workspace (id, organisation_id, name, description, created_at)"
                " VALUES (gen_random_uuid(), %s, 'planted', '', now())",
                [b],
            )
    with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE records_emissionrecord SET organisation_id = %s", [b])

    _set_org(b)
    assert _scalar("SELECT count(*) FROM records_emissionrecord") == b_rows
    assert _scalar("SELECT string_agg(activity, ',' ORDER BY id) FROM records_emissionrecord") == b_activity
    assert _scalar("SELECT count(*) FROM tenancy_workspace WHERE name = 'planted'") == 0
