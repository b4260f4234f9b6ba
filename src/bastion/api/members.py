"""Members (grants of a role on the organisation, a workspace or a project) and roles."""


import uuid

from django.core.exceptions import ValidationError
from ninja import Query, Status

from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import (
    InvitationOut,
    MemberIn,
    MemberInvited,
    MemberOut,
    MemberPatch,
    PageQuery,
    PermissionOut,
    RoleIn,
    RoleOut,
    RolePatch,
    page_of,
)
from bastion.identity import invitations
from bastion.identity.mfa import step_up
from bastion.identity.models import Invitation
from bastion.tenancy import actions
from bastion.tenancy.access import requires
from bastion.tenancy.models import Membership, Project, Role, Workspace
from bastion.tenancy.permissions import BUILTIN_ROLE_NAMES, BUILTIN_ROLES, PERMISSIONS

router = AuthorizingRouter(tags=["members and roles"])


def member_out(membership: Membership) -> dict:
    return {
        "id": membership.id,
        "user_id": membership.user_id,
        "email": membership.user.email,
        "name": membership.user.get_full_name(),
        "scope": membership.scope,
        "workspace_id": membership.workspace_id,
        "project_id": membership.project_id,
        "role": membership.role_key,
        "role_name": membership.role_label,
    }


def role_out(role: Role) -> dict:
    return {"id": f"custom:{role.id}", "name": role.name, "description": role.description,
            "permissions": role.permissions, "builtin": False}


def invitation_out(invitation: Invitation) -> dict:
    return {
        "id": invitation.id, "email": invitation.email, "role": invitation.role, "scope": invitation.scope,
        "workspace_id": invitation.workspace_id, "project_id": invitation.project_id,
        "invited_by": invitation.invited_by.email if invitation.invited_by is not None else None,
        "created_at": invitation.created_at, "expires_at": invitation.expires_at,
    }


def _actor_id(access) -> int | None:
    """The member who acts: the signed-in user, or the creator of the API key."""
    return getattr(access.user, "created_by_id", None) or access.user.pk


@router.get("/orgs/{org}/members", response=page_of(MemberOut))
@requires("members.view")
def list_members(request, org: str, q: Query[PageQuery]):
    memberships = Membership.objects.select_related("user", "custom_role").order_by("user__email", "created_at")
    page = paginate(memberships, q.page, q.page_size)
    page["items"] = [member_out(m) for m in page["items"]]
    return page


@router.post("/orgs/{org}/members", response={202: MemberInvited})
@requires("members.manage")
def add_member(request, org: str, payload: MemberIn):
    """Invite someone: the same answer whether or not the address has an account. They become a
    member when they accept (an account on one of the organisation's verified SSO domains is
    added at once: ``added``)."""
    workspace = project = None
    step_up.require_for_role(request, request.access.organisation, payload.role)
    if payload.workspace_id and payload.project_id:
        raise ValidationError({"project_id": ValidationError("Give a workspace or a project, not both.", code="one_scope")})
    if payload.workspace_id:
        workspace = Workspace.objects.filter(id=payload.workspace_id).first()
        if workspace is None:
            raise ValidationError({"workspace_id": ValidationError("No such workspace.", code="not_found")})
    if payload.project_id:
        project = Project.objects.filter(id=payload.project_id).first()
        if project is None:
            raise ValidationError({"project_id": ValidationError("No such project.", code="not_found")})
    result = invitations.invite(
        request.access.organisation, email=payload.email, role=payload.role, workspace=workspace, project=project,
        invited_by_id=_actor_id(request.access), grantor_grants=request.access.grants, request=request,
    )
    return Status(202, {"status": result.status, "email": result.email})


@router.get("/orgs/{org}/invitations", response=page_of(InvitationOut))
@requires("members.manage")
def list_invitations(request, org: str, q: Query[PageQuery]):
    page = paginate(invitations.pending().select_related("invited_by"), q.page, q.page_size)
    page["items"] = [invitation_out(i) for i in page["items"]]
    return page


@router.post("/orgs/{org}/invitations/{invitation_id}/resend", response={202: InvitationOut})
@requires("members.manage")
def resend_invitation(request, org: str, invitation_id: uuid.UUID):
    """Email the invitation again with a new link (the old one stops working) and a new expiry."""
    invitation = invitations.resend(request.path_objects["invitation_id"], request=request)
    return Status(202, invitation_out(invitation))


@router.delete("/orgs/{org}/invitations/{invitation_id}", response={204: None})
@requires("members.manage")
def revoke_invitation(request, org: str, invitation_id: uuid.UUID):
    invitations.revoke(request.path_objects["invitation_id"])
    return Status(204, None)


@router.get("/orgs/{org}/members/{membership_id}", response=MemberOut)
@requires("members.view")
def get_member(request, org: str, membership_id: uuid.UUID):
    return member_out(request.path_objects["membership_id"])


@router.patch("/orgs/{org}/members/{membership_id}", response=MemberOut)
@requires("members.manage")
def update_member(request, org: str, membership_id: uuid.UUID, payload: MemberPatch):
    step_up.require_for_role(request, request.access.organisation, payload.role)
    membership = actions.change_membership_role(
        request.path_objects["membership_id"], role=payload.role, grantor_grants=request.access.grants
    )
    return member_out(membership)


@router.delete("/orgs/{org}/members/{membership_id}", response={204: None})
@requires("members.manage")
def remove_member(request, org: str, membership_id: uuid.UUID):
    actions.remove_membership(request.path_objects["membership_id"], grantor_grants=request.access.grants)
    return Status(204, None)


@router.get("/orgs/{org}/permissions", response=list[PermissionOut])
@requires("organisation.view")
def list_permissions(request, org: str):
    return [{"name": name, "description": description} for name, description in PERMISSIONS.items()]


@router.get("/orgs/{org}/roles", response=list[RoleOut])
@requires("members.view")
def list_roles(request, org: str):
    builtin = [
        {"id": key, "name": BUILTIN_ROLE_NAMES[key], "description": "", "builtin": True,
         "permissions": [p for p in PERMISSIONS if p in permissions]}
        for key, permissions in BUILTIN_ROLES.items()
    ]
    return builtin + [role_out(role) for role in Role.objects.all()]


@router.post("/orgs/{org}/roles", response={201: RoleOut})
@requires("roles.manage")
def create_role(request, org: str, payload: RoleIn):
    step_up.require_for_permissions(request, payload.permissions)
    role = actions.save_role(
        request.access.organisation,
        name=payload.name,
        description=payload.description,
        permissions=payload.permissions,
        grantor_grants=request.access.grants,
    )
    return Status(201, role_out(role))


@router.get("/orgs/{org}/roles/{role_id}", response=RoleOut)
@requires("members.view")
def get_role(request, org: str, role_id: uuid.UUID):
    return role_out(request.path_objects["role_id"])


@router.patch("/orgs/{org}/roles/{role_id}", response=RoleOut)
@requires("roles.manage")
def update_role(request, org: str, role_id: uuid.UUID, payload: RolePatch):
    role = request.path_objects["role_id"]
    step_up.require_for_permissions(request, payload.permissions or [])
    role = actions.save_role(
        request.access.organisation,
        role=role,
        name=payload.name if payload.name is not None else role.name,
        description=payload.description if payload.description is not None else role.description,
        permissions=payload.permissions if payload.permissions is not None else role.permissions,
        grantor_grants=request.access.grants,
    )
    return role_out(role)


@router.delete("/orgs/{org}/roles/{role_id}", response={204: None})
@requires("roles.manage")
def delete_role(request, org: str, role_id: uuid.UUID):
    actions.delete_role(request.path_objects["role_id"], grantor_grants=request.access.grants)
    return Status(204, None)
