# Evidence files stored in clear before encrypted artifacts existed are encrypted here: each is
# read, stored again as an encrypted artifact, and its clear copy deleted once this commits.

import django.db.models.deletion
from django.db import migrations, models, transaction

from bastion.db.rls import each_organisation


def encrypt_existing(apps, schema_editor):
    from django.core.files.storage import storages

    from bastion.crypto import artifacts

    EvidenceFile = apps.get_model("records", "EvidenceFile")
    storage = storages["default"]
    for organisation_id in each_organisation(apps, schema_editor):
        for evidence in EvidenceFile.objects.filter(organisation_id=organisation_id, artifact__isnull=True):
            if not storage.exists(evidence.storage_key):
                raise RuntimeError(f"evidence file {evidence.id} ({evidence.storage_key}) is missing from object "
                                   "storage; restore it, then run the migration again")
            with storage.open(evidence.storage_key, "rb") as clear:
                artifact = artifacts.put(organisation_id, clear.chunks(), purpose="evidence")
            if artifact.sha256 != evidence.sha256:
                raise RuntimeError(f"evidence file {evidence.id} does not match its recorded SHA-256; not migrated")
            evidence.artifact_id = artifact.id
            evidence.save(update_fields=["artifact"])
            transaction.on_commit(lambda key=evidence.storage_key: storage.delete(key))


class Migration(migrations.Migration):

    dependencies = [
        ('crypto', '0005_encrypted_artifacts'),
        ('records', '0003_supplier_email_blind_index'),
        ('tenancy', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='evidencefile',
            name='artifact',
            field=models.OneToOneField(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+',
                                       to='crypto.artifact'),
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop, elidable=False),
    ]
