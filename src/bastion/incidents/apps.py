from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    """Incident response and vulnerability disclosure: reports from researchers on business-day
    timers (``disclosure.py``, ``working_days.py``) and the public ``/security`` pages."""

    name = "bastion.incidents"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from bastion.incidents import audit_actions  # noqa: F401  (declares the actions)
