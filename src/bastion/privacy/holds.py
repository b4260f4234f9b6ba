"""Legal holds: placing and releasing them, and deciding what an active hold covers.

A hold on the organisation covers everything in it and every member; a hold on a workspace
covers its projects' data and the members granted in it (and the organisation-wide members, who
can act anywhere); a hold on a project covers that project's data and its members likewise.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.privacy.audit_actions import LEGAL_HOLD_PLACED, LEGAL_HOLD_RELEASED
from bastion.privacy.models import LegalHold
from bastion.tenancy.models import Membership, Organisation, Project, Workspace


def active(organisation_id) -> list[LegalHold]:
    return list(LegalHold.all_tenants.filter(organisation_id=organisation_id, released_at__isnull=True))


def place(organisation: Organisation, *, reason: str, workspace: Workspace | None = None,
          project: Project | None = None, placed_by_label: str = "") -> LegalHold:
    if not reason.strip():
        raise ValidationError({"reason": ValidationError("Say why the hold is placed.", code="required")})
    if project is not None and workspace is not None and project.workspace_id != workspace.id:
        raise ValidationError({"project": ValidationError("The project is not in that workspace.", code="mismatch")})
    hold = LegalHold(organisation=organisation, workspace=workspace if project is None else None, project=project,
                     reason=reason.strip(), placed_by_label=placed_by_label)
    hold.full_clean()
    with transaction.atomic():
        hold.save()
        audit.record(LEGAL_HOLD_PLACED, organisation_id=organisation.id, resource_type="legalhold",
                     resource_id=hold.id, changes={"scope": hold.scope, "workspace": hold.workspace_id,
                                                   "project": hold.project_id, "reason": hold.reason})
    return hold


def release(hold: LegalHold, *, now: datetime.datetime | None = None) -> LegalHold:
    if hold.released_at is not None:
        return hold
    with transaction.atomic():
        hold.released_at = now or timezone.now()
        hold.save(update_fields=["released_at"])
        audit.record(LEGAL_HOLD_RELEASED, organisation_id=hold.organisation_id, resource_type="legalhold",
                     resource_id=hold.id, changes={"scope": hold.scope, "reason": hold.reason})
    return hold


def covering_project(holds: list[LegalHold], project_id, workspace_id) -> LegalHold | None:
    """The first hold covering data of ``project_id`` (in ``workspace_id``)."""
    for hold in holds:
        if hold.scope == "organisation" or hold.project_id == project_id or (
                hold.scope == "workspace" and hold.workspace_id == workspace_id):
            return hold
    return None


def covering_member(holds: list[LegalHold], grants: list[Membership]) -> LegalHold | None:
    """The first hold covering a member with ``grants`` in the hold's organisation."""
    for hold in holds:
        if hold.scope == "organisation":
            return hold
        for grant in grants:
            if grant.scope == "organisation":
                return hold
            if hold.scope == "workspace" and (grant.workspace_id == hold.workspace_id or (
                    grant.project is not None and grant.project.workspace_id == hold.workspace_id)):
                return hold
            if hold.scope == "project" and grant.project_id == hold.project_id:
                return hold
    return None
