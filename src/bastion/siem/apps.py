from django.apps import AppConfig


class SiemConfig(AppConfig):
    name = "bastion.siem"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.siem import audit_actions  # noqa: F401  (declares the actions)
