from django.apps import AppConfig


class HardeningConfig(AppConfig):
    """Web hardening: security headers, CSP, CSRF origin checks, rate limits, TLS, safe errors,
    /.well-known/security.txt, upload limits."""

    name = "bastion.hardening"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.hardening import checks  # noqa: F401  (registers the deployment checks)
