from django.apps import AppConfig


class BackupsConfig(AppConfig):
    """Backups (SQLite snapshots, pgBackRest on PostgreSQL), restores into a new place, and drills
    that prove each backup restorable and measure RPO and RTO."""

    name = "bastion.backups"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.backups import audit_actions, checks  # noqa: F401  (registers the actions and the deploy check)
