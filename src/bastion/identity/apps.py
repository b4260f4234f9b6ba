from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "bastion.identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from allauth.account import signals as account_signals
        from allauth.mfa import signals as mfa_signals
        from allauth.mfa.models import Authenticator
        from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
        from django.db.models.signals import post_delete, post_save

        from bastion.identity import (
            account_events,
            audit_actions,  # noqa: F401  (declares the actions)
            checks,  # noqa: F401  (registers the deployment checks)
            signin_events,
        )
        from bastion.identity.mfa import recovery_codes
        from bastion.identity.scim import audit_actions as scim_audit_actions  # noqa: F401
        from bastion.identity.sessions import timeouts as session_timeouts

        user_logged_in.connect(signin_events.on_login, dispatch_uid="bastion.identity.login")
        user_logged_in.connect(session_timeouts.on_login, dispatch_uid="bastion.identity.session_started")
        user_logged_out.connect(signin_events.on_logout, dispatch_uid="bastion.identity.logout")
        user_login_failed.connect(signin_events.on_login_failed, dispatch_uid="bastion.identity.login_failed")

        for signal, receiver in [
            (account_signals.password_changed, account_events.on_password_changed),
            (account_signals.password_reset, account_events.on_password_reset),
            (account_signals.user_signed_up, account_events.on_signed_up),
            (account_signals.email_confirmed, account_events.on_email_confirmed),
            (mfa_signals.authentication_failed, account_events.on_mfa_failed),
        ]:
            signal.connect(receiver, dispatch_uid=f"bastion.identity.{receiver.__name__}")
        post_save.connect(account_events.on_authenticator_saved, sender=Authenticator,
                          dispatch_uid="bastion.identity.authenticator_saved")
        post_delete.connect(account_events.on_authenticator_deleted, sender=Authenticator,
                            dispatch_uid="bastion.identity.authenticator_deleted")

        from bastion.identity.mfa import policy as mfa_policy
        from bastion.tenancy.signals import access_changed

        access_changed.connect(mfa_policy.access_changed, dispatch_uid="bastion.identity.access_changed")
        for signal in (post_save, post_delete):
            signal.connect(mfa_policy.authenticator_changed, sender=Authenticator,
                           dispatch_uid=f"bastion.identity.authenticator_changed.{signal is post_save}")

        recovery_codes.install()

        # allauth's session-list clean-up at sign-in, in a fixed number of queries (sessions/purge.py)
        from allauth.usersessions import signals as usersessions_signals

        from bastion.identity.sessions import purge as session_purge

        if account_signals.user_logged_in.disconnect(receiver=usersessions_signals.on_user_logged_in):
            account_signals.user_logged_in.connect(session_purge.on_user_logged_in,
                                                   dispatch_uid="bastion.identity.usersessions_purge")

        # python3-saml accepts assertions this far outside their validity window (its default: 300 s).
        from django.conf import settings
        from onelogin.saml2.constants import OneLogin_Saml2_Constants

        OneLogin_Saml2_Constants.ALLOWED_CLOCK_DRIFT = settings.BASTION_SSO_CLOCK_SKEW_SECONDS
