from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("identity", "0010_user_disabled_by"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="staff_role",
            field=models.CharField(blank=True, choices=[("support", "Support"), ("security", "Security"),
                                                        ("operator", "Operator")], default="", max_length=20),
        ),
    ]
