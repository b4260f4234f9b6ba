"""Deployment checks of accounts: emails really leave (reset links, confirmations, notices), and
the development-only relaxations of WebAuthn and SSO are off."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.utils.module_loading import import_string

from bastion.checks import expectation
from bastion.config import UNKNOWN_VALUE

NOT_SENDING = {
    "django.core.mail.backends.console.EmailBackend": "printed to the console",
    "django.core.mail.backends.locmem.EmailBackend": "kept in memory",
    "django.core.mail.backends.dummy.EmailBackend": "thrown away",
    "django.core.mail.backends.filebased.EmailBackend": "written to files",
}


@register(Tags.security, deploy=True)
def check_email(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        import_string(settings.BASTION_EMAIL_DELIVERY_BACKEND)
    except ImportError:
        return [Error(f"BASTION_EMAIL_BACKEND={settings.BASTION_EMAIL_DELIVERY_BACKEND!r} is not an email backend that can be imported",
                      hint="Unset it (SMTP when BASTION_SMTP_HOST is set), or give a dotted path such as "
                           "django.core.mail.backends.smtp.EmailBackend.", id=UNKNOWN_VALUE)]
    fate = NOT_SENDING.get(settings.BASTION_EMAIL_DELIVERY_BACKEND)
    if not fate:
        return []
    return [expectation(
        201, f"Emails (password-reset links, address confirmations, security notices) are {fate}, not sent.",
        "Set BASTION_SMTP_HOST (with BASTION_SMTP_PORT, BASTION_SMTP_USER, BASTION_SMTP_PASSWORD_FILE) "
        "to your mail relay, and unset BASTION_EMAIL_BACKEND.")]


@register(Tags.security, deploy=True)
def check_development_relaxations(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    problems = []
    if settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN:
        problems.append(expectation(
            202, "BASTION_WEBAUTHN_ALLOW_INSECURE_ORIGIN is on: security keys and passkeys are accepted over "
                 "plain HTTP.", "Unset BASTION_WEBAUTHN_ALLOW_INSECURE_ORIGIN (only the demo on localhost needs it)."))
    if settings.BASTION_SSO_ALLOW_HTTP:
        problems.append(expectation(
            203, "BASTION_SSO_ALLOW_HTTP is on: identity providers may be reached over plain HTTP.",
            "Unset BASTION_SSO_ALLOW_HTTP (only local test identity providers need it)."))
    return problems
