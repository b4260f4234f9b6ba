"""Pruning at signed checkpoint boundaries (docs/audit.md, "Retention and pruning").

The events table stays append-only for every role. The one exception is narrow: a DELETE of events
of one chain up to a tree size for which a signed checkpoint and a ``PrunedPrefix`` row exist, made
inside ``bastion_prune_audit`` (SECURITY DEFINER, PostgreSQL), which refuses unless every event it
removes is older than the cutoff given. The application role still has no DELETE right on the
table, and any other DELETE is refused by the trigger, the owner's included.
"""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from bastion.db.rls import EnableTenantRLS, MakeAppendOnly

PLATFORM = "'00000000-0000-0000-0000-000000000000'::uuid"
CHAIN_READ = f"chain_id = bastion_current_org() OR (chain_id = {PLATFORM} AND bastion_platform_scope())"
CHAIN_WRITE = f"chain_id = bastion_current_org() OR chain_id = {PLATFORM}"

POSTGRES_FORWARDS = """
CREATE OR REPLACE FUNCTION bastion_audit_event_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND current_setting('bastion.audit_pruning', true) = OLD.chain_id::text
       AND EXISTS (SELECT 1 FROM audit_prunedprefix p JOIN audit_checkpoint c
                   ON c.chain_id = p.chain_id AND c.tree_size = p.tree_size
                   WHERE p.chain_id = OLD.chain_id AND p.tree_size >= OLD.seq) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'table % is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;
DROP TRIGGER IF EXISTS append_only_rows ON audit_auditevent;
CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION bastion_audit_event_guard();

CREATE OR REPLACE FUNCTION bastion_prune_audit(chain uuid, upto bigint, cutoff timestamptz) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    removed bigint;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM audit_checkpoint WHERE chain_id = chain AND tree_size = upto) THEN
        RAISE EXCEPTION 'no signed checkpoint of chain % at tree size %', chain, upto;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM audit_prunedprefix WHERE chain_id = chain AND tree_size = upto) THEN
        RAISE EXCEPTION 'the pruned prefix of chain % at tree size % is not recorded', chain, upto;
    END IF;
    IF EXISTS (SELECT 1 FROM audit_auditevent WHERE chain_id = chain AND seq <= upto AND occurred_at >= cutoff) THEN
        RAISE EXCEPTION 'events of chain % up to % are not all past their retention', chain, upto;
    END IF;
    PERFORM set_config('bastion.audit_pruning', chain::text, true);
    DELETE FROM audit_personaldetails WHERE chain_id = chain AND seq <= upto;
    DELETE FROM audit_auditevent WHERE chain_id = chain AND seq <= upto;
    GET DIAGNOSTICS removed = ROW_COUNT;
    PERFORM set_config('bastion.audit_pruning', '', true);
    RETURN removed;
END $$;
"""
POSTGRES_BACKWARDS = """
DROP FUNCTION IF EXISTS bastion_prune_audit(uuid, bigint, timestamptz);
DROP TRIGGER IF EXISTS append_only_rows ON audit_auditevent;
CREATE TRIGGER append_only_rows BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION bastion_append_only();
DROP FUNCTION IF EXISTS bastion_audit_event_guard();
"""
# SQLite has no roles and no session settings: the guard is the recorded prefix and its checkpoint.
SQLITE_DROP = 'DROP TRIGGER IF EXISTS "audit_auditevent_append_only_delete"'
SQLITE_FORWARDS = """
CREATE TRIGGER "audit_auditevent_append_only_delete" BEFORE DELETE ON "audit_auditevent"
    WHEN NOT EXISTS (SELECT 1 FROM audit_prunedprefix p JOIN audit_checkpoint c
                     ON c.chain_id = p.chain_id AND c.tree_size = p.tree_size
                     WHERE p.chain_id = OLD.chain_id AND p.tree_size >= OLD.seq)
    BEGIN SELECT RAISE(ABORT, 'table audit_auditevent is append-only: DELETE refused'); END
"""
SQLITE_BACKWARDS = """
CREATE TRIGGER "audit_auditevent_append_only_delete" BEFORE DELETE ON "audit_auditevent"
    BEGIN SELECT RAISE(ABORT, 'table audit_auditevent is append-only: DELETE refused'); END
"""


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARDS, params=None)  # its % are plpgsql, not placeholders
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)
        schema_editor.execute(SQLITE_FORWARDS, params=None)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARDS, params=None)
    elif schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(SQLITE_DROP, params=None)
        schema_editor.execute(SQLITE_BACKWARDS, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_pseudonyms")]

    operations = [
        migrations.CreateModel(
            name="PrunedPrefix",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("chain_id", models.UUIDField()),
                ("tree_size", models.PositiveBigIntegerField()),
                ("head_hash", models.CharField(max_length=64)),
                ("frontier", models.JSONField(default=list)),
                ("pruned_at", models.DateTimeField()),
                ("cutoff", models.DateTimeField()),
            ],
            options={
                "ordering": ["chain_id", "tree_size"],
                "constraints": [models.UniqueConstraint(fields=("chain_id", "tree_size"), name="audit_pruned_size")],
            },
        ),
        EnableTenantRLS("prunedprefix", column="chain_id", using=CHAIN_READ, check=CHAIN_WRITE),
        MakeAppendOnly("prunedprefix"),
        migrations.RunPython(forwards, backwards),
    ]
