"""Organisations, workspaces and projects."""


import datetime
import uuid

from django.conf import settings
from ninja import Query, Schema, Status

from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import (
    OrganisationIn,
    OrganisationOut,
    OrganisationPatch,
    PageQuery,
    ProjectIn,
    ProjectOut,
    ProjectPatch,
    WorkspaceIn,
    WorkspaceOut,
    WorkspacePatch,
    page_of,
)
from bastion.identity.mfa import step_up
from bastion.privacy import organisation_deletion
from bastion.tenancy import actions
from bastion.tenancy.access import Forbidden, authenticated, organisations_of, requires

router = AuthorizingRouter(tags=["organisations"])


@router.get("/orgs", response=list[OrganisationOut])
@authenticated
def list_organisations(request):
    return list(organisations_of(request.auth))


@router.post("/orgs", response={201: OrganisationOut})
@authenticated
def create_organisation(request, payload: OrganisationIn):
    """Any signed-in user may found an organisation (and owns it) unless the operator turned it off."""
    if not request.user.is_authenticated:
        raise Forbidden()  # an API key acts inside its organisation; founding one is a person's act
    if not settings.BASTION_SELF_SERVICE_ORGANISATIONS and not request.user.is_staff:
        raise Forbidden()
    return Status(201, actions.create_organisation(name=payload.name, slug=payload.slug, owner=request.user))


@router.patch("/orgs/{org}", response=OrganisationOut)
@requires("organisation.manage")
def update_organisation(request, org: str, payload: OrganisationPatch):
    changes = payload.dict(exclude_unset=True)
    if "mfa_required" in changes:
        step_up.require(request)
    return actions.update_organisation(request.access.organisation, **changes)


class DeletionScheduledOut(Schema):
    due_at: datetime.datetime
    cancel: str = "the link emailed to every owner"


@router.delete("/orgs/{org}", response={202: DeletionScheduledOut})
@requires("organisation.delete")
@step_up.step_up_required
def delete_organisation(request, org: str):
    """Schedules the deletion after BASTION_ORGANISATION_DELETION_GRACE_DAYS (every owner is emailed a
    cancel link); then irreversible: every record, file and key of the organisation is gone (crypto-shredded)."""
    deletion = organisation_deletion.schedule(request.access.organisation, requested_by_label=request.user.get_username(),
                                              base_url=request.build_absolute_uri("/"))
    return Status(202, {"due_at": deletion.due_at})


@router.get("/orgs/{org}", response=OrganisationOut)
@requires("organisation.view")
def get_organisation(request, org: str):
    return request.access.organisation


@router.get("/orgs/{org}/workspaces", response=page_of(WorkspaceOut))
@requires("workspaces.view")
def list_workspaces(request, org: str, q: Query[PageQuery]):
    return paginate(request.access.visible_workspaces(), q.page, q.page_size)


@router.post("/orgs/{org}/workspaces", response={201: WorkspaceOut})
@requires("workspaces.manage")
def create_workspace(request, org: str, payload: WorkspaceIn):
    return Status(201, actions.create_workspace(request.access.organisation, name=payload.name, description=payload.description))


@router.get("/orgs/{org}/workspaces/{workspace_id}", response=WorkspaceOut)
@requires("workspaces.view")
def get_workspace(request, org: str, workspace_id: uuid.UUID):
    return request.access.workspace


@router.patch("/orgs/{org}/workspaces/{workspace_id}", response=WorkspaceOut)
@requires("workspaces.manage")
def update_workspace(request, org: str, workspace_id: uuid.UUID, payload: WorkspacePatch):
    return actions.update_workspace(request.access.workspace, **payload.dict(exclude_unset=True))


@router.delete("/orgs/{org}/workspaces/{workspace_id}", response={204: None})
@requires("workspaces.manage")
def delete_workspace(request, org: str, workspace_id: uuid.UUID):
    actions.delete_workspace(request.access.workspace)
    return Status(204, None)


@router.get("/orgs/{org}/projects", response=page_of(ProjectOut))
@requires("projects.view")
def list_projects(request, org: str, q: Query[PageQuery], workspace_id: uuid.UUID | None = None):
    projects = request.access.visible_projects()
    if workspace_id is not None:
        projects = projects.filter(workspace_id=workspace_id)
    return paginate(projects, q.page, q.page_size)


@router.post("/orgs/{org}/workspaces/{workspace_id}/projects", response={201: ProjectOut})
@requires("projects.manage")
def create_project(request, org: str, workspace_id: uuid.UUID, payload: ProjectIn):
    return Status(201, actions.create_project(request.access.workspace, name=payload.name, description=payload.description))


@router.get("/orgs/{org}/projects/{project_id}", response=ProjectOut)
@requires("projects.view")
def get_project(request, org: str, project_id: uuid.UUID):
    return request.access.project


@router.patch("/orgs/{org}/projects/{project_id}", response=ProjectOut)
@requires("projects.manage")
def update_project(request, org: str, project_id: uuid.UUID, payload: ProjectPatch):
    return actions.update_project(request.access.project, **payload.dict(exclude_unset=True))


@router.delete("/orgs/{org}/projects/{project_id}", response={204: None})
@requires("projects.manage")
def delete_project(request, org: str, project_id: uuid.UUID):
    actions.delete_project(request.access.project)
    return Status(204, None)

