from django.apps import AppConfig


class TrustConfig(AppConfig):
    """The control catalogue (YAML, mapped to SOC 2, ISO/IEC 27001:2022 and OWASP ASVS 5.0), the
    checks that prove each control against the running deployment, and the public trust page
    generated from their last run (``/trust``, signed ``/trust.json``)."""

    name = "bastion.trust"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.trust import audit_actions  # noqa: F401  (declares the actions)
