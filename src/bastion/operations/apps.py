from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Platform jobs that run on a schedule (Huey), health probes and the public status page."""

    name = "bastion.operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.operations import audit_actions  # noqa: F401  (declares the actions)
        from bastion.operations import checks  # noqa: F401  (registers the deployment checks)
