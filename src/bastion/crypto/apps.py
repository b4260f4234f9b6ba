from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "bastion.crypto"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from bastion.config import collecting
        from bastion.crypto import (
            api_key_cache,
            checks,  # noqa: F401  (registers the deployment checks)
        )
        from bastion.crypto.artifacts import delete_stored_object
        from bastion.crypto.keyfiles import check_key_directory
        from bastion.crypto.models import ApiKey, Artifact

        if not collecting():  # `bastion config check` reports an exposed key file with the rest (bastion.E401)
            check_key_directory()
        post_delete.connect(delete_stored_object, sender=Artifact, dispatch_uid="bastion.crypto.artifact")
        # Any change to an API key's row (revoked, deleted, erased) makes its cached verification stale.
        for signal in (post_save, post_delete):
            signal.connect(lambda sender, instance, **kwargs: api_key_cache.bump(instance.public_id), sender=ApiKey,
                           dispatch_uid=f"bastion.crypto.api_key_cache.{signal is post_save}", weak=False)
