from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "bastion.tenancy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from bastion.db.grants import grant_app_role
        from bastion.tenancy import (
            access_cache,
            audit_actions,  # noqa: F401  (declares the actions)
            customer_keys,  # noqa: F401  (records each use of a customer's key)
        )

        access_cache.connect()  # every change to who may do what bumps the organisation's access version
        post_migrate.connect(grant_app_role, dispatch_uid="bastion.tenancy.grant_app_role")
