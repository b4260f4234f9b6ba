"""The database: forced row-level security and a policy on every tenant table; the app role neither
owns them nor is superuser nor bypasses RLS (PostgreSQL; SQLite is embedded, one process's file)."""

from __future__ import annotations

from django.apps import apps
from django.db import connection

from bastion.tenancy.models import Organisation, TenantModel
from bastion.trust.checks import NOT_APPLICABLE, Outcome, check, failed, passed

_EMBEDDED = Outcome(NOT_APPLICABLE, "not applicable: embedded (SQLite, one file in the data directory)")


def tenant_tables() -> list[str]:
    return sorted([m._meta.db_table for m in apps.get_models() if issubclass(m, TenantModel)]
                  + [Organisation._meta.db_table])


@check("database.rls_forced", "Row-level security enabled, forced and with a tenant policy on every tenant table")
def rls_forced() -> Outcome:
    if connection.vendor != "postgresql":
        return _EMBEDDED
    tables = tenant_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
                       "WHERE relkind = 'r' AND relname = ANY(%s)", [tables])
        state = {name: (enabled, forced) for name, enabled, forced in cursor.fetchall()}
        cursor.execute("SELECT DISTINCT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'")
        with_policy = {row[0] for row in cursor.fetchall()}
    broken = sorted(t for t in tables if state.get(t) != (True, True) or t not in with_policy)
    evidence = {"tables": len(tables), "broken": broken}
    if broken:
        return failed(f"{len(broken)} tenant tables without forced RLS and a policy: {', '.join(broken)}", **evidence)
    return passed(f"all {len(tables)} tenant tables force RLS with a tenant_isolation policy", **evidence)


@check("database.app_role", "The application's database role is not superuser, cannot bypass RLS, owns no tenant table")
def app_role() -> Outcome:
    if connection.vendor != "postgresql":
        return _EMBEDDED
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        role, superuser, bypass = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tableowner = current_user AND tablename = ANY(%s)",
                       [tenant_tables()])
        owned = cursor.fetchone()[0]
    evidence = {"role": role, "superuser": superuser, "bypassrls": bypass, "tenant_tables_owned": owned}
    if superuser or bypass or owned:
        return failed(f"the app role {role} is superuser, bypasses RLS or owns {owned} tenant tables", **evidence)
    return passed(f"the app role {role} is not superuser, cannot bypass RLS and owns no tenant table", **evidence)
