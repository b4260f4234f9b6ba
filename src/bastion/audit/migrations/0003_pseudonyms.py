"""Format version 2: pseudonyms and the personal details kept outside the chain (docs/audit.md)."""

from django.db import migrations, models

from bastion.db.rls import EnableTenantRLS

PLATFORM = "'00000000-0000-0000-0000-000000000000'::uuid"
# As the events (0001), and platform scope reads and deletes all: erasure forgets a person in every chain.
PERSONAL_READ = "chain_id = bastion_current_org() OR bastion_platform_scope()"
PERSONAL_WRITE = f"chain_id = bastion_current_org() OR chain_id = {PLATFORM}"


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_chainhead_anchored_size")]

    operations = [
        # Nullable without a default: both backends add the column in place (SQLite would otherwise
        # rebuild the table, and lose its append-only triggers); NULL is format version 1.
        migrations.AddField(model_name="auditevent", name="format",
                            field=models.CharField(blank=True, max_length=32, null=True)),
        migrations.AddField(model_name="auditevent", name="personal", field=models.JSONField(blank=True, null=True)),
        migrations.CreateModel(
            name="Pseudonym",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("chain_id", models.UUIDField()),
                ("pseudonym", models.CharField(max_length=40, unique=True)),
                ("user_id", models.BigIntegerField(blank=True, null=True)),
                ("address_sha256", models.CharField(blank=True, max_length=64, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("chain_id", "user_id"), name="audit_pseudonym_user"),
                    models.UniqueConstraint(fields=("chain_id", "address_sha256"), name="audit_pseudonym_address"),
                ],
                "indexes": [models.Index(fields=["user_id"], name="audit_pseud_user_id_idx"),
                            models.Index(fields=["address_sha256"], name="audit_pseud_address_idx")],
            },
        ),
        migrations.CreateModel(
            name="PersonalDetails",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("chain_id", models.UUIDField()),
                ("seq", models.PositiveBigIntegerField()),
                ("pseudonym", models.CharField(blank=True, max_length=40)),
                ("details", models.JSONField(default=dict)),
                ("salt", models.CharField(max_length=64)),
            ],
            options={
                "constraints": [models.UniqueConstraint(fields=("chain_id", "seq", "pseudonym"),
                                                        name="audit_personal_event")],
                "indexes": [models.Index(fields=["pseudonym"], name="audit_perso_pseudon_idx")],
            },
        ),
        EnableTenantRLS("pseudonym", column="chain_id", using=PERSONAL_READ, check=PERSONAL_WRITE),
        EnableTenantRLS("personaldetails", column="chain_id", using=PERSONAL_READ, check=PERSONAL_WRITE),
    ]
