from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "bastion.crypto"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from bastion.config import collecting
        from bastion.crypto import checks  # noqa: F401  (registers the deployment checks)
        from bastion.crypto.artifacts import delete_stored_object
        from bastion.crypto.keyfiles import check_key_directory
        from bastion.crypto.models import Artifact

        if not collecting():  # `bastion config check` reports an exposed key file with the rest (bastion.E401)
            check_key_directory()
        post_delete.connect(delete_stored_object, sender=Artifact, dispatch_uid="bastion.crypto.artifact")
