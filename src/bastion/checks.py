"""What the deployment checks share: a production expectation is an error in production and a
warning elsewhere (``BASTION_PRODUCTION``; ``bastion serve`` on an address other than loopback is
production too). Each app's ``checks.py`` registers its own checks with
``@register(Tags.security, deploy=True)``; ``bastion config check`` and ``bastion serve`` run them
(``bastion.operations.deployment_checks``). The ids are listed in docs/configuration.md."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning


def production() -> bool:
    return bool(getattr(settings, "BASTION_PRODUCTION", False))


def expectation(number: int, msg: str, hint: str) -> CheckMessage:
    """``bastion.E<number>`` in production, ``bastion.W<number>`` elsewhere."""
    if production():
        return Error(msg, hint=hint, id=f"bastion.E{number:03d}")
    return Warning(msg + " (an error in production)", hint=hint, id=f"bastion.W{number:03d}")
