from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="chainhead",
            name="anchored_size",
            field=models.PositiveBigIntegerField(default=0),
        ),
    ]
