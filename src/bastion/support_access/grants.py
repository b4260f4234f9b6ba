"""What a staff member may do in an organisation right now: the open grants the organisation
approved, as grants ``tenancy.access.authorize`` weighs like any membership.

``tenancy`` sits below the apps and may not import this one, so ``authorize`` stays the one function
that decides, and consults this resolver (registered at ``ready()``) for a staff principal only:
the grant model belongs to the request-and-approval flow, which is this app's.
"""

from __future__ import annotations

import uuid

from bastion.support_access import clock
from bastion.support_access.models import AccessRequest
from bastion.tenancy import context
from bastion.tenancy.models import Organisation
from bastion.tenancy.permissions import BUILTIN_ROLES

MODE_ROLES = {"read_only": "viewer", "read_write": "editor"}


class StaffGrant:
    """One scope of an open grant: the organisation, a workspace or a project."""

    custom_role_id = None

    def __init__(self, request: AccessRequest, *, workspace_id: uuid.UUID | None = None,
                 project_id: uuid.UUID | None = None) -> None:
        self.access_request = request
        self.workspace_id = workspace_id
        self.project_id = project_id
        self.scope = "project" if project_id else "workspace" if workspace_id else "organisation"

    def permissions(self) -> frozenset[str]:
        return BUILTIN_ROLES[MODE_ROLES[self.access_request.mode]]


def active_grants(user, organisation_slug: str) -> tuple[Organisation, list[StaffGrant]] | None:
    """The organisation named and ``user``'s grants open in it now, or None (→ 404)."""
    moment = clock.now()
    with context.platform_scope():
        organisation = Organisation.objects.filter(slug=organisation_slug).first()
        if organisation is None:
            return None
        open_requests = [r for r in AccessRequest.all_tenants.filter(
            organisation_id=organisation.id, requested_by_id=user.pk, state="approved", revoked_at__isnull=True,
            starts_at__lte=moment, ends_at__gt=moment).order_by("created_at") if r.is_open_at(moment)]
    if not open_requests:
        return None
    context.activate(organisation.id)
    grants: list[StaffGrant] = []
    for request in open_requests:
        if not request.workspace_ids and not request.project_ids:
            grants.append(StaffGrant(request))
        grants += [StaffGrant(request, workspace_id=uuid.UUID(w)) for w in request.workspace_ids]
        grants += [StaffGrant(request, project_id=uuid.UUID(p)) for p in request.project_ids]
    return organisation, grants


def grant_requests(access) -> list[AccessRequest]:
    """The access requests whose grants an ``Access`` was decided with (empty for members and keys)."""
    seen: dict[uuid.UUID, AccessRequest] = {}
    for grant in getattr(access, "grants", ()):
        if isinstance(grant, StaffGrant):
            seen.setdefault(grant.access_request.id, grant.access_request)
    return list(seen.values())
