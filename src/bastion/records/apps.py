from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "bastion.records"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from bastion.records import audit_actions  # noqa: F401  (declares the actions)
        from bastion.records.models import EvidenceFile
        from bastion.records.signals import delete_evidence_artifact

        post_delete.connect(delete_evidence_artifact, sender=EvidenceFile, dispatch_uid="bastion.records.evidence_file")
