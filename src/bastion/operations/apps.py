from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Platform jobs that run on a schedule (Huey), metrics, structured logs, health probes, the public
    status page and security monitoring of the audit stream."""

    name = "bastion.operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.mfa import signals as mfa_signals
        from django.contrib.auth.signals import user_logged_in, user_login_failed
        from huey.contrib.djhuey import HUEY
        from huey.signals import SIGNAL_COMPLETE, SIGNAL_ERROR, SIGNAL_EXECUTING

        from bastion.audit.signals import event_appended
        from bastion.identity.signals import lockout_started, sign_in_refused
        from bastion.operations import (
            audit_actions,  # noqa: F401  (declares the actions)
            checks,  # noqa: F401  (registers the deployment checks)
            metrics,
            transport_checks,  # noqa: F401  (registers the internal-traffic checks)
        )

        for signal, receiver in [
            (user_logged_in, metrics.on_login),
            (user_login_failed, metrics.on_login_failed),
            (sign_in_refused, metrics.on_sign_in_refused),
            (lockout_started, metrics.on_lockout),
            (mfa_signals.authentication_failed, metrics.on_mfa_failed),
            (event_appended, metrics.on_audit_append),
        ]:
            signal.connect(receiver, dispatch_uid=f"bastion.operations.metrics.{receiver.__name__}")
        HUEY.disconnect_signal(metrics.on_job_signal)  # ready() twice (tests) must not count twice
        HUEY.signal(SIGNAL_EXECUTING, SIGNAL_COMPLETE, SIGNAL_ERROR)(metrics.on_job_signal)
        metrics.preset_labels()
