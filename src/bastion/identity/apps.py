from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "bastion.identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

        from bastion.identity import audit_actions  # noqa: F401  (registers the actions)
        from bastion.identity import session_timeouts, signin_events

        user_logged_in.connect(signin_events.on_login, dispatch_uid="bastion.identity.login")
        user_logged_in.connect(session_timeouts.on_login, dispatch_uid="bastion.identity.session_started")
        user_logged_out.connect(signin_events.on_logout, dispatch_uid="bastion.identity.logout")
        user_login_failed.connect(signin_events.on_login_failed, dispatch_uid="bastion.identity.login_failed")
