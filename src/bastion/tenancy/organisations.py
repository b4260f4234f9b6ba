"""The platform's list of organisations, for work that runs across all of them (jobs, operator commands)."""

from __future__ import annotations

from bastion.tenancy import context
from bastion.tenancy.models import Organisation


class UnknownOrganisation(LookupError):
    def __init__(self, slug: str):
        super().__init__(f"no organisation with slug {slug!r}")


def slugs_by_id() -> dict[str, str]:
    """Every organisation's id (as text) → slug."""
    with context.platform_scope():
        return {str(org_id): slug for org_id, slug in Organisation.objects.values_list("id", "slug")}


def id_for(slug: str) -> str:
    for organisation_id, known in slugs_by_id().items():
        if known == slug:
            return organisation_id
    raise UnknownOrganisation(slug)
