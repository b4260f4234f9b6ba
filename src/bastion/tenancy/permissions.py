"""Named permissions and the built-in roles made of them.

A permission is a string ``<area>.<verb>``; a role is a set of them. Views and API operations
declare the permission they need (see ``bastion.tenancy.access``); nothing else grants access.
"""

from __future__ import annotations

import uuid
from typing import Protocol


class Grant(Protocol):
    """What a grant offers, whether a membership or what an API key holds (``access.KeyGrant``)."""

    @property
    def scope(self) -> str: ...
    @property
    def workspace_id(self) -> uuid.UUID | None: ...
    @property
    def project_id(self) -> uuid.UUID | None: ...
    def permissions(self) -> frozenset[str]: ...


PERMISSIONS: dict[str, str] = {
    "organisation.view": "See the organisation",
    "organisation.manage": "Change the organisation's settings",
    "organisation.delete": "Delete the organisation",
    "members.view": "See who is a member and with which role",
    "members.manage": "Add, change and remove members",
    "roles.manage": "Define custom roles",
    "workspaces.view": "See workspaces",
    "workspaces.manage": "Create, rename and delete workspaces",
    "projects.view": "See projects",
    "projects.manage": "Create, rename and delete projects",
    "records.view": "See emissions and energy records",
    "records.edit": "Create, change and delete records",
    "records.import": "Import records from CSV",
    "suppliers.view": "See suppliers",
    "suppliers.edit": "Create, change and delete suppliers",
    "evidence.view": "See and download evidence files",
    "evidence.upload": "Upload and delete evidence files",
    "audit.view": "Browse the organisation's audit log and its verification results",
    "audit.export": "Download the audit log with its signed checkpoints and proofs",
    "audit.checkpoints": "See the latest signed checkpoint of the audit log and consistency proofs, to keep as a witness",
    "audit.witnesses": "Register and remove the audit log's witnesses (webhooks, email addresses)",
    "apikeys.manage": "Create, list and revoke the organisation's API keys",
    "credentials.manage": "Store, list, rotate and delete the organisation's third-party credentials",
    "security.alerts.view": "See and acknowledge the organisation's security alerts (the sign-in addresses and "
                            "patterns they show), and receive them by email",
    "security.notices.view": "Read the personal-data-breach notices Bastion sends the organisation, and receive them "
                             "by email",
}

_VIEW = {
    "organisation.view",
    "members.view",
    "workspaces.view",
    "projects.view",
    "records.view",
    "suppliers.view",
    "evidence.view",
    "audit.checkpoints",
}
_EDIT = _VIEW | {"records.edit", "records.import", "suppliers.edit", "evidence.upload"}
_ADMIN = _EDIT | {
    "organisation.manage",
    "members.manage",
    "roles.manage",
    "workspaces.manage",
    "projects.manage",
    "audit.view",
    "audit.export",
    "audit.witnesses",
    "apikeys.manage",
    "credentials.manage",
    "security.alerts.view",
    "security.notices.view",
}
_OWNER = _ADMIN | {"organisation.delete"}

BUILTIN_ROLES: dict[str, frozenset[str]] = {
    "owner": frozenset(_OWNER),
    "admin": frozenset(_ADMIN),
    "editor": frozenset(_EDIT),
    "viewer": frozenset(_VIEW),
}
BUILTIN_ROLE_NAMES = {"owner": "Owner", "admin": "Admin", "editor": "Editor", "viewer": "Viewer"}

# Permissions that only make sense for the organisation as a whole: a grant lower down (on a
# workspace or project) never carries them.
ORGANISATION_ONLY = frozenset(
    {"organisation.manage", "organisation.delete", "members.manage", "roles.manage", "audit.view", "audit.export",
     "audit.checkpoints", "audit.witnesses", "apikeys.manage", "credentials.manage", "security.alerts.view",
     "security.notices.view"}
)


# Organisation-wide permissions that only read. Every other organisation-wide permission changes
# who may do what, or reads the whole organisation out at once (``audit.export``): holding any of
# them requires a second factor (``requires_mfa``). ``security.alerts.view`` is not read-only: it
# acknowledges alerts, and shows every member's sign-in addresses. A test walks ``PERMISSIONS`` so that a new
# permission is classified here, not forgotten.
ORGANISATION_READ_ONLY = frozenset({"audit.view", "audit.checkpoints", "security.notices.view"})
ADMIN_GRADE = ORGANISATION_ONLY - ORGANISATION_READ_ONLY


def requires_mfa(permissions: frozenset[str] | set[str]) -> bool:
    """Whether a role made of ``permissions`` must be used with a second factor."""
    return bool(ADMIN_GRADE & set(permissions))


def unknown_permissions(names: list[str] | set[str]) -> list[str]:
    return sorted(set(names) - PERMISSIONS.keys())
