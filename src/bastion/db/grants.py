"""Give the application's database role exactly the rights it needs, after every migration.

Migrations run as the owner role (``DATABASE_ADMIN_URL``); the app connects as ``DATABASE_URL``'s
role, which may read and write rows but owns nothing, so it can neither alter a table nor turn
row-level security off.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connections

# Tables whose rows may never be changed once written; apps add to this (the audit log will).
APPEND_ONLY_TABLES: set[str] = set()


def grant_app_role(sender: object, using: str = "default", **kwargs: object) -> None:
    connection = connections[using]
    role = getattr(settings, "DATABASE_APP_ROLE", None)
    if connection.vendor != "postgresql" or not role:
        return
    if connection.settings_dict["USER"] == role:
        return  # single-role deployment: nothing to grant
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        cursor.execute(f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {quoted}")
        existing = set(connection.introspection.table_names(cursor))
        for table in sorted(APPEND_ONLY_TABLES & existing):
            cursor.execute(f"REVOKE UPDATE, DELETE ON {connection.ops.quote_name(table)} FROM {quoted}")
