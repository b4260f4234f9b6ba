"""The table of the shared cache (Django's database cache): TOTP codes already used and allauth's
rate limits must be seen by every app server, so they cannot live in one process's memory. It is
made whatever CACHES says now, so that a deployment may move from Redis back to the database."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "bastion_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("identity", "0003_known_clients")]

    operations = [migrations.RunPython(create, drop)]
