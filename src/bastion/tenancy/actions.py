"""Every change to organisations, workspaces, projects, roles and memberships goes through here.

One function per change, each in its own transaction with the audit event that records it: if
either fails, neither happens.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bastion.audit import chain as audit
from bastion.crypto import keyring
from bastion.crypto.models import ApiKey, Artifact, Credential
from bastion.tenancy import context
from bastion.tenancy.audit_actions import (
    MEMBER_ADDED,
    MEMBER_REMOVED,
    MEMBER_ROLE_CHANGED,
    ORGANISATION_CREATED,
    ORGANISATION_DELETED,
    ORGANISATION_UPDATED,
    PROJECT_CREATED,
    PROJECT_DELETED,
    PROJECT_UPDATED,
    ROLE_CREATED,
    ROLE_DELETED,
    ROLE_UPDATED,
    WORKSPACE_CREATED,
    WORKSPACE_DELETED,
    WORKSPACE_UPDATED,
)
from bastion.tenancy.models import Membership, Organisation, Project, Role, TenantModel, Workspace
from bastion.tenancy.permissions import BUILTIN_ROLES, PERMISSIONS, Grant, requires_mfa, unknown_permissions
from bastion.tenancy.signals import access_changed

_Changed = TypeVar("_Changed", Organisation, Workspace, Project)


def create_organisation(*, name: str, slug: str, owner: AbstractBaseUser) -> Organisation:
    if getattr(owner, "staff_role", ""):
        raise ValidationError({"owner": ValidationError("Platform staff cannot be members of an organisation.",
                                                        code="platform_staff")})
    organisation = Organisation(id=uuid.uuid4(), name=name.strip(), slug=slug)
    organisation.full_clean(validate_unique=False)
    try:
        with context.tenant_context(organisation.id):
            organisation.save(force_insert=True)
            # The concrete user model (identity's) is a layer above: tenancy knows it as an AbstractBaseUser.
            membership = Membership.objects.create(organisation=organisation, user=owner,  # type: ignore[misc]
                                                   builtin_role="owner")
            _audit(ORGANISATION_CREATED, organisation, {"name": organisation.name, "slug": organisation.slug},
                   organisation_id=organisation.id)
            _audit(MEMBER_ADDED, membership, _membership_summary(membership))
            _access_changed([owner.pk])
    except IntegrityError as exc:
        # Row-level security hides other organisations, so uniqueness is left to the database.
        raise ValidationError({"slug": ValidationError("This slug is taken.", code="slug_taken")}) from exc
    return organisation


def update_organisation(organisation: Organisation, **changes: Any) -> Organisation:
    with transaction.atomic():
        updated = _update(organisation, changes, allowed={"name", "mfa_required"}, action=ORGANISATION_UPDATED)
        if "mfa_required" in changes:
            _access_changed(Membership.objects.filter(organisation_id=organisation.id).values_list("user_id", flat=True))
    return updated


def _access_changed(user_ids: Iterable[int]) -> None:
    access_changed.send(sender=Membership, user_ids=set(user_ids))


def _audit(action: str, instance: TenantModel | Organisation, changes: dict[str, Any] | None = None, *,
           organisation_id: uuid.UUID | None = None) -> None:
    if organisation_id is None:
        organisation_id = instance.id if isinstance(instance, Organisation) else instance.organisation_id
    audit.record(
        action,
        organisation_id=organisation_id,
        resource_type=instance._meta.model_name or "",
        resource_id=instance.pk,
        changes=changes,
    )


def _membership_summary(membership: Membership) -> dict[str, Any]:
    return {
        "user": membership.user.get_username(),
        "role": membership.role_key,
        "scope": membership.scope,
        "workspace": membership.workspace_id,
        "project": membership.project_id,
        # Whether the grant is admin-grade when made: security monitoring alerts on such grants, and a
        # custom role's permissions may change later.
        "admin_grade": requires_mfa(membership.permissions()),
    }


def create_workspace(organisation: Organisation, *, name: str, description: str = "") -> Workspace:
    workspace = Workspace(organisation=organisation, name=name.strip(), description=description)
    workspace.full_clean()
    with transaction.atomic():
        workspace.save()
        _audit(WORKSPACE_CREATED, workspace, {"name": workspace.name})
    return workspace


def create_project(workspace: Workspace, *, name: str, description: str = "") -> Project:
    project = Project(
        organisation_id=workspace.organisation_id, workspace=workspace, name=name.strip(), description=description
    )
    project.full_clean()
    with transaction.atomic():
        project.save()
        _audit(PROJECT_CREATED, project, {"name": project.name, "workspace": workspace.id})
    return project


def update_workspace(workspace: Workspace, **changes: Any) -> Workspace:
    return _update(workspace, changes, allowed={"name", "description"}, action=WORKSPACE_UPDATED)


def update_project(project: Project, **changes: Any) -> Project:
    return _update(project, changes, allowed={"name", "description"}, action=PROJECT_UPDATED)


def delete_workspace(workspace: Workspace) -> None:
    with transaction.atomic():
        _audit(WORKSPACE_DELETED, workspace, {"name": workspace.name})
        workspace.delete()


def delete_project(project: Project) -> None:
    with transaction.atomic():
        _audit(PROJECT_DELETED, project, {"name": project.name})
        project.delete()


def _update(instance: _Changed, changes: dict[str, Any], *, allowed: set[str], action: str) -> _Changed:
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({name: ValidationError("Unknown field.", code="unknown_field") for name in sorted(unknown)})
    before = {name: getattr(instance, name) for name in allowed}
    for name, value in changes.items():
        setattr(instance, name, value.strip() if name == "name" else value)
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
            after = {name: getattr(instance, name) for name in allowed}
            organisation_id = instance.pk if isinstance(instance, Organisation) else None
            _audit(action, instance, audit.diff(before, after), organisation_id=organisation_id)
    except IntegrityError as exc:
        raise ValidationError({"name": ValidationError("This name is taken.", code="duplicate_name")}) from exc
    return instance


def parse_role(organisation: Organisation, role: str) -> tuple[str, Role | None]:
    """``owner``/``admin``/``editor``/``viewer`` or ``custom:<uuid>`` → (builtin, custom role)."""
    if role in BUILTIN_ROLES:
        return role, None
    if role.startswith("custom:"):
        try:
            role_id = uuid.UUID(role.removeprefix("custom:"))
        except ValueError:
            role_id = None
        custom = Role.objects.filter(id=role_id).first() if role_id else None
        if custom is not None and custom.organisation_id == organisation.id:
            return "", custom
    raise ValidationError({"role": ValidationError("Unknown role.", code="unknown_role")})


def _grantor_permissions(grantor_grants: Sequence[Grant]) -> frozenset[str]:
    organisation_grant = next((g for g in grantor_grants if g.scope == "organisation"), None)
    return organisation_grant.permissions() if organisation_grant else frozenset()


def _check_grantor(grantor_grants: Sequence[Grant] | None, builtin: str, custom: Role | None = None) -> None:
    """Nobody hands out more than they hold: a role granted, created or taken away must be
    within the grantor's own organisation-wide permissions (``None``: a platform action)."""
    if grantor_grants is None:
        return
    held = _grantor_permissions(grantor_grants)
    if builtin == "owner" and "organisation.delete" not in held:
        raise ValidationError({"role": ValidationError("Only an owner can grant the owner role.", code="owner_only")})
    wanted = frozenset(custom.permissions) if custom is not None else BUILTIN_ROLES.get(builtin, frozenset())
    if not wanted <= held:
        raise ValidationError(
            {"role": ValidationError("You can only grant permissions you hold yourself.", code="exceeds_grantor")}
        )


def check_grantor(grantor_grants: Sequence[Grant] | None, role: str, organisation: Organisation,
                  *, also: frozenset[str] = frozenset()) -> None:
    """The grantor rule for grants made later on someone's behalf (SSO's default role): ``role``
    and the ``also`` permissions must be within what ``grantor_grants`` hold now."""
    builtin, custom = parse_role(organisation, role)
    _check_grantor(grantor_grants, builtin, custom)
    if grantor_grants is not None and not also <= _grantor_permissions(grantor_grants):
        raise ValidationError({"role": ValidationError("You can only grant permissions you hold yourself.",
                                                       code="exceeds_grantor")})


def _check_may_change(grantor_grants: Sequence[Grant] | None, membership: Membership) -> None:
    _check_grantor(grantor_grants, membership.builtin_role, membership.custom_role)


def _keep_an_owner(membership: Membership) -> None:
    """Refuse to demote or remove ``membership`` if it is the organisation's last owner. Called
    inside the change's transaction: the owner memberships are locked (in one order) before they
    are counted, so two owners demoting or removing each other at once wait for each other and
    the second counts what the first left."""
    owners = list(
        Membership.objects.select_for_update()
        .filter(organisation_id=membership.organisation_id, workspace__isnull=True, project__isnull=True,
                builtin_role="owner")
        .order_by("id")
        .values_list("id", flat=True)
    )
    if owners == [membership.id]:
        raise ValidationError({"role": ValidationError("An organisation keeps at least one owner.", code="last_owner")})


def check_grant(organisation: Organisation, *, role: str, workspace: Workspace | None = None,
                project: Project | None = None, grantor_grants: Sequence[Grant] | None = None) -> None:
    """Refuse, as ``add_membership`` would, a grant its grantor could not make (for invitations)."""
    builtin, custom = parse_role(organisation, role)
    _check_grantor(grantor_grants, builtin, custom)
    if builtin == "owner" and (workspace or project):
        raise ValidationError({"role": ValidationError("Owner is granted on the organisation only.", code="owner_scope")})


def add_membership(
    organisation: Organisation,
    *,
    user: AbstractBaseUser,
    role: str,
    workspace: Workspace | None = None,
    project: Project | None = None,
    grantor_grants: Sequence[Grant] | None = None,
) -> Membership:
    builtin, custom = parse_role(organisation, role)
    _check_grantor(grantor_grants, builtin, custom)
    if getattr(user, "staff_role", ""):
        # Platform staff reach an organisation only under a grant it approved (support_access), never as members.
        raise ValidationError({"user": ValidationError("Platform staff cannot be members of an organisation.",
                                                       code="platform_staff")})
    if builtin == "owner" and (workspace or project):
        raise ValidationError({"role": ValidationError("Owner is granted on the organisation only.", code="owner_scope")})
    membership = Membership(
        organisation=organisation, user=user,  # type: ignore[misc]  # identity's user model, as above
        builtin_role=builtin, custom_role=custom, workspace=workspace, project=project
    )
    try:
        with transaction.atomic():
            membership.save()
            _audit(MEMBER_ADDED, membership, _membership_summary(membership))
            _access_changed([membership.user_id])
    except IntegrityError as exc:
        raise ValidationError(
            {"user": ValidationError("This user already has a role at that level.", code="duplicate_membership")}
        ) from exc
    return membership


def change_membership_role(membership: Membership, *, role: str, grantor_grants: Sequence[Grant] | None = None) -> Membership:
    builtin, custom = parse_role(membership.organisation, role)
    _check_may_change(grantor_grants, membership)
    _check_grantor(grantor_grants, builtin, custom)
    if builtin == "owner" and membership.scope != "organisation":
        raise ValidationError({"role": ValidationError("Owner is granted on the organisation only.", code="owner_scope")})
    before, before_admin_grade = membership.role_key, requires_mfa(membership.permissions())
    with transaction.atomic():
        if builtin != "owner" and membership.scope == "organisation":
            _keep_an_owner(membership)
        membership.builtin_role, membership.custom_role = builtin, custom
        membership.save(update_fields=["builtin_role", "custom_role"])
        _audit(MEMBER_ROLE_CHANGED, membership,
               {"user": membership.user.get_username(), "role": [before, membership.role_key],
                "admin_grade": [before_admin_grade, requires_mfa(membership.permissions())]})
        _access_changed([membership.user_id])
    return membership


def remove_membership(membership: Membership, *, grantor_grants: Sequence[Grant] | None = None) -> None:
    _check_may_change(grantor_grants, membership)
    with transaction.atomic():
        if membership.scope == "organisation":
            _keep_an_owner(membership)
            # Leaving the organisation ends every lower grant too.
            for grant in Membership.objects.filter(user_id=membership.user_id).select_related("user"):
                _audit(MEMBER_REMOVED, grant, _membership_summary(grant))
                grant.delete()
        else:
            _audit(MEMBER_REMOVED, membership, _membership_summary(membership))
            membership.delete()
        _access_changed([membership.user_id])


def save_role(
    organisation: Organisation,
    *,
    name: str,
    permissions: list[str],
    description: str = "",
    role: Role | None = None,
    grantor_grants: Sequence[Grant] | None = None,
) -> Role:
    unknown = unknown_permissions(permissions)
    if unknown:
        raise ValidationError(
            {"permissions": ValidationError(f"Unknown permissions: {', '.join(unknown)}.", code="unknown_permission")}
        )
    if grantor_grants is not None:
        held = _grantor_permissions(grantor_grants)
        if not set(permissions) <= held or (role is not None and not set(role.permissions) <= held):
            raise ValidationError(
                {"permissions": ValidationError("A role can only hold permissions you hold yourself.", code="exceeds_grantor")}
            )
    created = role is None
    role = role or Role(organisation=organisation)
    before = {"name": role.name, "description": role.description, "permissions": list(role.permissions)}
    role.name, role.description = name.strip(), description
    role.permissions = sorted(set(permissions), key=list(PERMISSIONS).index)
    role.full_clean(validate_constraints=False)
    after = {"name": role.name, "description": role.description, "permissions": list(role.permissions)}
    try:
        with transaction.atomic():
            role.save()
            _audit(ROLE_CREATED if created else ROLE_UPDATED, role, after if created else audit.diff(before, after))
            if not created:
                _access_changed(Membership.objects.filter(custom_role=role).values_list("user_id", flat=True))
    except IntegrityError as exc:
        raise ValidationError({"name": ValidationError("A role with this name exists.", code="duplicate_name")}) from exc
    return role


def delete_role(role: Role, *, grantor_grants: Sequence[Grant] | None = None) -> None:
    if grantor_grants is not None and not set(role.permissions) <= _grantor_permissions(grantor_grants):
        raise ValidationError({"role": ValidationError("This role holds permissions you do not.", code="exceeds_grantor")})
    if Membership.objects.filter(custom_role=role).exists():
        raise ValidationError({"role": ValidationError("The role is still granted to members.", code="role_in_use")})
    with transaction.atomic():
        _audit(ROLE_DELETED, role, {"name": role.name, "permissions": role.permissions})
        role.delete()


def delete_organisation(organisation: Organisation) -> None:
    """Delete an organisation and crypto-shred it: its data keys go with it, and its KEK is destroyed
    in the KMS once this commits, so its ciphertexts stay unreadable even in old backups. Its audit
    chain stays (append-only, verifiable), with this deletion as its last event."""
    organisation_id = organisation.id
    with context.tenant_context(organisation_id):
        _audit(ORGANISATION_DELETED, organisation, {"name": organisation.name, "slug": organisation.slug},
               organisation_id=organisation_id)
        ApiKey.objects.filter(organisation_id=organisation_id).delete()
        Credential.objects.filter(organisation_id=organisation_id).delete()
        organisation.delete()  # evidence rows cascade, and take their artifacts with them
        Artifact.objects.filter(organisation_id=organisation_id).delete()  # the rest (exports …); objects on commit
        keyring.shred(organisation_id)
