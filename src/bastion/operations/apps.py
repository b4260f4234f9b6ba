from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Platform jobs that run on a schedule (Huey): audit checkpoints, the daily verification and
    security monitoring of the audit stream."""

    name = "bastion.operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.operations import audit_actions  # noqa: F401  (registers the app's audit actions)
