from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    """What the deployment publishes about itself, generated from code and settings: the data
    inventory (every model field classified), where each kind of data is stored (data flows) and the
    declared region that storage, KMS and backup endpoints must be in."""

    name = "bastion.disclosures"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.disclosures import audit_actions, checks  # noqa: F401  (registers actions and checks)
