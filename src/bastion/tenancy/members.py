"""Who in an organisation holds a permission across all of it: the people emails go to (security
alerts, breach notices, staff access requests), read in the organisation's tenant context."""

from __future__ import annotations

import uuid
from typing import Any

from bastion.tenancy.models import Membership


def holding(permission: str, organisation_id: uuid.UUID | None = None) -> list[Any]:
    """Active users whose organisation-wide role grants ``permission`` and who have an address,
    sorted by address (the organisation being read unless ``organisation_id`` is given)."""
    grants = Membership.objects.filter(workspace__isnull=True, project__isnull=True, user__is_active=True)
    if organisation_id is not None:
        grants = grants.filter(organisation_id=organisation_id)
    users = {grant.user for grant in grants.select_related("user", "custom_role")
             if permission in grant.permissions() and grant.user.email}
    return sorted(users, key=lambda user: user.email)
