from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "bastion.audit"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.audit import (
            audit_actions,  # noqa: F401  (declares the actions)
            checks,  # noqa: F401  (registers the deployment checks)
        )
        from bastion.db.grants import APPEND_ONLY_TABLES

        APPEND_ONLY_TABLES.update({"audit_auditevent", "audit_checkpoint", "audit_verificationresult", "audit_prunedprefix"})
