from django.apps import AppConfig


class AccessLogConfig(AppConfig):
    name = "bastion.access_log"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.access_log import audit_actions  # noqa: F401  (declares the actions)
        from bastion.db.grants import APPEND_ONLY_TABLES

        APPEND_ONLY_TABLES.add("access_log_accessbatch")
