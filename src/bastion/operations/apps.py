from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Platform jobs that run on a schedule (Huey): audit checkpoints and the daily verification."""

    name = "bastion.operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.operations import checks  # noqa: F401  (registers the deployment checks)
