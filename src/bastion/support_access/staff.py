"""Platform staff accounts: creating one (``bastion staff create``), who is staff in which role,
and the guard of the staff console (``staff_only``).

A staff account is a member of no organisation (``tenancy.actions.add_membership`` refuses one)
and must sign in with a second factor; security and operator with a security key or passkey
(``identity.mfa.policy``). Anyone else is told the staff pages do not exist.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from bastion.audit import chain as audit
from bastion.identity.mfa import policy as mfa_policy
from bastion.identity.mfa import step_up
from bastion.identity.models import STAFF_ROLES
from bastion.support_access.audit_actions import STAFF_CREATED
from bastion.tenancy import context
from bastion.tenancy.access import NotFound, Unauthenticated
from bastion.tenancy.models import Membership


@dataclass
class StaffCreated:
    email: str
    role: str
    created: bool  # False: an existing account (with no memberships) became staff


class StaffRefused(Exception):
    pass


def create_staff(email: str, role: str) -> StaffCreated:
    if role not in STAFF_ROLES:
        raise StaffRefused(f"unknown role {role!r}: choose one of {', '.join(STAFF_ROLES)}")
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise StaffRefused(f"not an email address: {email!r}") from None
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        created = user is None
        if user is None:
            # No password: the person sets one through "forgot password", then enrols their second factor.
            user = User.objects.create_user(email=email, password=None, email_verified=True, staff_role=role)
        else:
            context.bind_user(user.pk)
            if Membership.all_tenants.filter(user_id=user.pk).exists():
                raise StaffRefused(f"{email} is a member of an organisation: platform staff must be members of none")
            user.staff_role = role
            user.access_version += 1
            user.save(update_fields=["staff_role", "access_version"])
        audit.record(STAFF_CREATED, resource_type="user", resource_id=user.pk,
                     changes={"email": email, "role": role, "new_account": created})
    return StaffCreated(email=email, role=role, created=created)


def staff_emails(role: str) -> list[str]:
    return sorted(get_user_model().objects.filter(staff_role=role, is_active=True).exclude(email="")
                  .values_list("email", flat=True))


def is_staff(user, *roles: str) -> bool:
    role = getattr(user, "staff_role", "")
    return bool(role) and (not roles or role in roles)


def staff_only(*roles: str):
    """Console views of platform staff in one of ``roles`` (any role when none is named). Reading
    needs a session signed in with the second factor the role requires; every change needs step-up."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if not getattr(user, "is_authenticated", False) or not user.is_active:
                raise Unauthenticated()
            if not is_staff(user, *roles) or getattr(request, "principal", None) is not None:
                raise NotFound()
            if not mfa_policy.session_second_factor_suffices(request, user):
                raise step_up.StepUpRequired()
            if request.method not in ("GET", "HEAD"):
                step_up.require(request)
            return view(request, *args, **kwargs)

        wrapper.requires_authentication = True  # type: ignore[attr-defined]
        wrapper.platform_staff = roles or True  # type: ignore[attr-defined]
        return wrapper

    return decorator
