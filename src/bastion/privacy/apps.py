from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "bastion.privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.privacy import audit_actions  # noqa: F401  (declares the actions)
