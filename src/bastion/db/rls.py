"""PostgreSQL row-level security: the transaction's tenant settings, and migration operations.

Each tenant table gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` (FORCE so that even the
table's owner is confined) and a policy that shows and accepts only rows whose
``organisation_id`` equals the transaction's ``bastion.org_id`` setting. The application's
database role is neither the owner nor a superuser, so it cannot turn this off. On other
backends the operations do nothing; there, ``TenantManager`` confines queries.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

from django.db import connection, migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState, StateApps


def set_setting(name: str, value: str) -> None:
    """``set_config(name, value, true)``: the function form of ``SET LOCAL``, for this transaction only."""
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("the tenant context needs a transaction: wrap the work in transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


@contextlib.contextmanager
def setting(name: str, value: str) -> Iterator[None]:
    """Set a tenant setting for a block, then put back whatever it was."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting(%s, true), '')", [name])
        previous = cursor.fetchone()[0]
    set_setting(name, value)
    try:
        yield
    finally:
        if not connection.needs_rollback:
            set_setting(name, previous)

FUNCTIONS_SQL = """
CREATE OR REPLACE FUNCTION bastion_current_org() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('bastion.org_id', true), '')::uuid $$;
CREATE OR REPLACE FUNCTION bastion_current_user() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT NULLIF(current_setting('bastion.user_id', true), '')::bigint $$;
CREATE OR REPLACE FUNCTION bastion_platform_scope() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('bastion.scope', true), '') = 'platform' $$;
"""
DROP_FUNCTIONS_SQL = """
DROP FUNCTION IF EXISTS bastion_current_org();
DROP FUNCTION IF EXISTS bastion_current_user();
DROP FUNCTION IF EXISTS bastion_platform_scope();
"""


class _PostgresOnly(migrations.operations.base.Operation):
    reduces_to_sql = True
    reversible = True

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass

    def forwards_sql(self, table: str) -> str:
        raise NotImplementedError

    def backwards_sql(self, table: str) -> str:
        raise NotImplementedError

    def _table(self, app_label: str, state: ProjectState) -> str:
        return ""

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState,
                          to_state: ProjectState) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.forwards_sql(self._table(app_label, to_state)))

    def database_backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState,
                           to_state: ProjectState) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.backwards_sql(self._table(app_label, from_state)))


class CreateTenantFunctions(_PostgresOnly):
    """The SQL functions the policies read the transaction's tenant context through."""

    def forwards_sql(self, table: str) -> str:
        return FUNCTIONS_SQL

    def backwards_sql(self, table: str) -> str:
        return DROP_FUNCTIONS_SQL

    def describe(self) -> str:
        return "Create the tenant-context SQL functions"


class EnableTenantRLS(_PostgresOnly):
    """Confine ``model_name``'s table to the transaction's organisation.

    ``using`` may widen what can be *read* (memberships are readable by their own user so that
    an organisation can be chosen); writes are always checked against the active organisation.
    """

    def __init__(self, model_name: str, using: str | None = None, column: str = "organisation_id", check: str | None = None) -> None:
        self.model_name = model_name
        self.using = using
        self.column = column
        self.check = check

    def deconstruct(self) -> tuple[str, list[Any], dict[str, str]]:
        kwargs = {"model_name": self.model_name}
        for name in ("using", "check"):
            if getattr(self, name):
                kwargs[name] = getattr(self, name)
        if self.column != "organisation_id":
            kwargs["column"] = self.column
        return self.__class__.__name__, [], kwargs

    def _table(self, app_label: str, state: ProjectState) -> str:
        model: type[models.Model] = state.apps.get_model(app_label, self.model_name)
        return model._meta.db_table

    def forwards_sql(self, table: str) -> str:
        check = self.check or f"{self.column} = bastion_current_org()"
        using = self.using or check
        return (
            f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;\n'
            f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY;\n'
            f'CREATE POLICY tenant_isolation ON "{table}" USING ({using}) WITH CHECK ({check});'
        )

    def backwards_sql(self, table: str) -> str:
        return (
            f'DROP POLICY IF EXISTS tenant_isolation ON "{table}";\n'
            f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY;\n'
            f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY;'
        )

    def describe(self) -> str:
        return f"Enable row-level security on {self.model_name}"


APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION bastion_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
"""


class MakeAppendOnly(_PostgresOnly):
    """Reject UPDATE, DELETE and TRUNCATE on a table, for every role (a superuser can still
    switch triggers off, which is why the audit log is also hash-chained and verified).

    On SQLite the same through ``RAISE(ABORT)`` triggers; SQLite has no TRUNCATE.
    """

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, str]]:
        return self.__class__.__name__, [], {"model_name": self.model_name}

    def _table(self, app_label: str, state: ProjectState) -> str:
        model: type[models.Model] = state.apps.get_model(app_label, self.model_name)
        return model._meta.db_table

    def database_forwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState,
                          to_state: ProjectState) -> None:
        table = self._table(app_label, to_state)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(APPEND_ONLY_FUNCTION, params=None)  # its % are plpgsql, not placeholders
            schema_editor.execute(
                f'CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON "{table}"'
                " FOR EACH ROW EXECUTE FUNCTION bastion_append_only();"
            )
            schema_editor.execute(
                f'CREATE TRIGGER append_only_truncate BEFORE TRUNCATE ON "{table}"'
                " FOR EACH STATEMENT EXECUTE FUNCTION bastion_append_only();"
            )
        elif schema_editor.connection.vendor == "sqlite":
            for operation in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f'CREATE TRIGGER "{table}_append_only_{operation.lower()}" BEFORE {operation} ON "{table}"'
                    f" BEGIN SELECT RAISE(ABORT, 'table {table} is append-only: {operation} refused'); END;"
                )

    def database_backwards(self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState,
                           to_state: ProjectState) -> None:
        table = self._table(app_label, from_state)
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f'DROP TRIGGER IF EXISTS append_only_rows ON "{table}";')
            schema_editor.execute(f'DROP TRIGGER IF EXISTS append_only_truncate ON "{table}";')
        elif schema_editor.connection.vendor == "sqlite":
            for operation in ("update", "delete"):
                schema_editor.execute(f'DROP TRIGGER IF EXISTS "{table}_append_only_{operation}";')

    def describe(self) -> str:
        return f"Make {self.model_name} append-only"


def each_organisation(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> Iterator[uuid.UUID]:
    """For data migrations: every organisation's id, with row-level security bound to each in turn
    (the migration's transaction sees one organisation's rows at a time, as the app does)."""
    organisation_model = apps.get_model("tenancy", "Organisation")
    set_setting("bastion.scope", "platform")
    organisation_ids = list(organisation_model.objects.values_list("id", flat=True))
    set_setting("bastion.scope", "")
    for organisation_id in organisation_ids:
        set_setting("bastion.org_id", str(organisation_id))
        yield organisation_id
    set_setting("bastion.org_id", "")
