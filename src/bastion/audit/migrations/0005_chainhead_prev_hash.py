"""The head keeps the hash it moved from, so that one statement can move it and insert the event
linked to it (``bastion.audit.chain``). Its frontier is now the Merkle frontier as of the last
checkpoint; the events since are folded in when the next one is signed."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_pruning")]

    operations = [
        migrations.AddField(
            model_name="chainhead",
            name="prev_hash",
            field=models.CharField(default="0" * 64, max_length=64),
        ),
    ]
