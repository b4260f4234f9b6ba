from django.apps import AppConfig


class SupportAccessConfig(AppConfig):
    """Platform staff, their access to an organisation's data only under a grant the organisation
    approved (or break-glass), and the organisation's view of everything done under it."""

    name = "bastion.support_access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.support_access import (
            audit_actions,  # noqa: F401  (declares the actions)
            grants,
        )
        from bastion.tenancy import access

        access.register_staff_grant_resolver(grants.active_grants)
