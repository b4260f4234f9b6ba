"""Template context: the organisations the signed-in user can switch between."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from bastion.tenancy.access import organisations_of


def organisations(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access = getattr(request, "access", None)
    # Error pages render after the view's transaction has ended; the tenant settings need one.
    with transaction.atomic():
        my_organisations = list(organisations_of(user))
    return {
        "my_organisations": my_organisations,
        "current_organisation": access.organisation if access else None,
        "access": access,
    }


def environment(request) -> dict:
    """The installation's environment, shown as a banner on every console page outside production."""
    name = settings.BASTION_ENVIRONMENT
    return {"bastion_environment": name, "bastion_environment_banner": name != "production"}
