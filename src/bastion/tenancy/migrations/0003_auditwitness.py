import uuid

import django.db.models.deletion
import django.db.models.manager
from django.db import migrations, models

import bastion.crypto.fields
from bastion.db.rls import EnableTenantRLS


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0002_organisation_mfa_required")]

    operations = [
        migrations.CreateModel(
            name="AuditWitness",
            fields=[
                ("id", models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ("kind", models.CharField(choices=[("webhook", "HTTPS webhook"), ("email", "Email")], max_length=10)),
                ("url", models.URLField(blank=True, max_length=500)),
                ("email", models.EmailField(blank=True, max_length=254)),
                ("secret", bastion.crypto.fields.EncryptedTextField(blank=True, default="", max_length=200)),
                ("delivered_size", models.PositiveBigIntegerField(default=0)),
                ("attempts", models.PositiveIntegerField(default=0)),
                ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                ("last_error", models.CharField(blank=True, max_length=300)),
                ("created_by_label", models.CharField(blank=True, max_length=254)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("organisation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                   to="tenancy.organisation")),
            ],
            options={"ordering": ["created_at"]},
            managers=[
                ("objects", django.db.models.manager.Manager()),
                ("all_tenants", django.db.models.manager.Manager()),
            ],
        ),
        EnableTenantRLS("auditwitness"),
    ]
