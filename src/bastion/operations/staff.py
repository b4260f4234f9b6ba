"""Who may write the status page: platform staff (``User.is_staff``, the same flag that lets staff
found organisations when self-service is off), with a second factor. Reading the staff pages needs
a session signed in with a second factor; every change needs step-up (one used in the last
``BASTION_STEP_UP_SECONDS``). Anyone else is told the page does not exist."""

from __future__ import annotations

import functools

from allauth.account.internal.flows.login import get_authentication_records

from bastion.identity.mfa import step_up
from bastion.tenancy.access import NotFound, Unauthenticated


def platform_staff(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            raise Unauthenticated()
        if not user.is_staff or getattr(request, "principal", None) is not None:
            raise NotFound()
        if request.method in ("GET", "HEAD"):
            if not any(r.get("method") == "mfa" for r in get_authentication_records(request, user)):
                raise step_up.StepUpRequired()
        else:
            step_up.require(request)
        return view(request, *args, **kwargs)

    wrapper.requires_authentication = True
    wrapper.platform_staff = True
    return wrapper
