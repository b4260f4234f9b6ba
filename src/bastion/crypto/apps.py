from django.apps import AppConfig


class CryptoConfig(AppConfig):
    name = "bastion.crypto"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.crypto.keyfiles import check_key_directory

        check_key_directory()
