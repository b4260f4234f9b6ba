"""Deleting one's account needs the person to prove it is them just now: their second factor
(``identity.mfa.step_up``), or, for someone who has none, their password entered just now."""

from __future__ import annotations

import time

from allauth.account.internal.flows.login import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings

from bastion.identity.mfa import step_up


def require(request) -> None:
    """Raise ``step_up.StepUpRequired`` (403; the console sends the person to confirm) unless it is them."""
    if Authenticator.objects.filter(user=request.user).exists():
        step_up.require(request)
        return
    cutoff = time.time() - settings.BASTION_STEP_UP_SECONDS
    if not any(record.get("method") == "password" and float(record.get("at", 0)) >= cutoff
               for record in get_authentication_records(request, request.user)):
        raise step_up.StepUpRequired()
