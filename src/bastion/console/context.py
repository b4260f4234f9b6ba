"""Template context: the organisations the signed-in user can switch between."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils.functional import SimpleLazyObject

from bastion.tenancy.access import organisations_of


def organisations(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    access = getattr(request, "access", None)

    def load() -> list:
        # Error pages render after the view's transaction has ended; the tenant settings need one.
        with transaction.atomic():
            return list(organisations_of(user))

    return {
        # Read when a template first uses it: a message or an email rendered with this context
        # (the "signed in" message, at every sign-in) does not pay for the query.
        "my_organisations": SimpleLazyObject(load),
        "current_organisation": access.organisation if access else None,
        "access": access,
    }


def environment(request) -> dict:
    """The installation's environment, shown as a banner on every console page outside production."""
    name = settings.BASTION_ENVIRONMENT
    return {"bastion_environment": name, "bastion_environment_banner": name != "production"}
