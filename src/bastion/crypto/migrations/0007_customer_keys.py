from django.db import migrations, models

from bastion.db.rls import EnableTenantRLS


class Migration(migrations.Migration):

    dependencies = [
        ('crypto', '0006_export_purposes'),
    ]

    operations = [
        migrations.CreateModel(
            name='CustomerKey',
            fields=[
                ('organisation_id', models.UUIDField(primary_key=True, serialize=False)),
                ('external_id', models.CharField(max_length=64)),
                ('key_arn', models.CharField(blank=True, max_length=200)),
                ('role_arn', models.CharField(blank=True, max_length=200)),
                ('configured_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        EnableTenantRLS("customerkey"),
    ]
