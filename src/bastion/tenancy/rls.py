"""PostgreSQL row-level security for tenant-owned tables, as migration operations.

Each tenant table gets ``ENABLE`` and ``FORCE ROW LEVEL SECURITY`` (FORCE so that even the
table's owner is confined) and a policy that shows and accepts only rows whose
``organisation_id`` equals the transaction's ``bastion.org_id`` setting. The application's
database role is neither the owner nor a superuser, so it cannot turn this off. On other
backends the operations do nothing; there, ``TenantManager`` confines queries.
"""

from __future__ import annotations

from django.db import migrations

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

    def state_forwards(self, app_label, state):
        pass

    def forwards_sql(self, table: str) -> str:
        raise NotImplementedError

    def backwards_sql(self, table: str) -> str:
        raise NotImplementedError

    def _table(self, app_label, state) -> str:
        return ""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.forwards_sql(self._table(app_label, to_state)))

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(self.backwards_sql(self._table(app_label, from_state)))


class CreateTenantFunctions(_PostgresOnly):
    """The SQL functions the policies read the transaction's tenant context through."""

    def forwards_sql(self, table: str) -> str:
        return FUNCTIONS_SQL

    def backwards_sql(self, table: str) -> str:
        return DROP_FUNCTIONS_SQL

    def describe(self):
        return "Create the tenant-context SQL functions"


class EnableTenantRLS(_PostgresOnly):
    """Confine ``model_name``'s table to the transaction's organisation.

    ``using`` may widen what can be *read* (memberships are readable by their own user so that
    an organisation can be chosen); writes are always checked against the active organisation.
    """

    def __init__(self, model_name: str, using: str | None = None, column: str = "organisation_id"):
        self.model_name = model_name
        self.using = using
        self.column = column

    def deconstruct(self):
        kwargs = {"model_name": self.model_name}
        if self.using:
            kwargs["using"] = self.using
        if self.column != "organisation_id":
            kwargs["column"] = self.column
        return self.__class__.__name__, [], kwargs

    def _table(self, app_label, state) -> str:
        return state.apps.get_model(app_label, self.model_name)._meta.db_table

    def forwards_sql(self, table: str) -> str:
        check = f"{self.column} = bastion_current_org()"
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

    def describe(self):
        return f"Enable row-level security on {self.model_name}"


# The organisation table: readable as the active organisation, through the user's own
# memberships, or in platform scope (jobs that iterate organisations); written only as itself.
ORGANISATION_READ = (
    "id = bastion_current_org()"
    " OR id IN (SELECT organisation_id FROM tenancy_membership WHERE user_id = bastion_current_user())"
    " OR bastion_platform_scope()"
)
MEMBERSHIP_READ = "organisation_id = bastion_current_org() OR user_id = bastion_current_user()"
