from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "bastion.records"
    default_auto_field = "django.db.models.BigAutoField"
