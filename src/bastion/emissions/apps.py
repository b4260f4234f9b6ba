from django.apps import AppConfig


class EmissionsConfig(AppConfig):
    name = "bastion.emissions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from bastion.emissions import audit_actions  # noqa: F401  (declares the actions)
        from bastion.emissions.calculation import recompute_after_edit
        from bastion.records.models import EmissionRecord

        post_save.connect(recompute_after_edit, sender=EmissionRecord, dispatch_uid="bastion.emissions.recompute")
