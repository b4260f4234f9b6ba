# A migration of its own: PostgreSQL cannot alter a table with pending deferred-constraint
# checks from the rows 0004 updated in the same transaction.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('records', '0004_encrypt_evidence_files'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='evidencefile',
            name='storage_key',
        ),
        migrations.AlterField(
            model_name='evidencefile',
            name='artifact',
            field=models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                       to='crypto.artifact'),
        ),
    ]
