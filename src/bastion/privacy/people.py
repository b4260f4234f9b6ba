"""A person's grants, across the organisations they belong to."""

from __future__ import annotations

from collections import defaultdict

from django.db import transaction

from bastion.tenancy import context
from bastion.tenancy.models import Membership, Organisation


def grants_by_organisation(user_id) -> dict[Organisation, list[Membership]]:
    with transaction.atomic():
        context.bind_user(user_id)  # row-level security shows a user's own memberships
        grants = list(Membership.all_tenants.filter(user_id=user_id).select_related("organisation"))
        context.bind_user(None)
    by_org: dict[Organisation, list[Membership]] = defaultdict(list)
    for grant in grants:
        by_org[grant.organisation].append(grant)
    return dict(by_org)
