"""Data protection: a person's own rights under /me (export, correct, delete), the platform staff's
queue of requests that arrived by email, and an organisation's export, retention and legal holds."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid

from django.http import FileResponse
from ninja import Field, Schema, Status

from bastion.api.openapi import error_response
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import Text
from bastion.privacy import (
    account_deletion,
    erasure,
    holds,
    organisation_export,
    personal_export,
    profile,
    reauthentication,
    retention,
    subject_requests,
)
from bastion.privacy.models import LegalHold, SubjectRequest
from bastion.support_access.staff import is_staff
from bastion.tenancy import artifacts
from bastion.tenancy.access import AccessDenied, Forbidden, NotFound, authenticated, requires
from bastion.tenancy.models import Project, Workspace

router = AuthorizingRouter(tags=["privacy"])


class SoleOwnerConflict(AccessDenied):
    status = 409
    code = "sole_owner"

    def __init__(self, exc: erasure.SoleOwner):
        super().__init__(str(exc))
        self.message = (f"You are the only owner of {', '.join(exc.slugs)}: make someone else an owner "
                        "(or delete the organisation) before deleting your account.")


class ExportGone(AccessDenied):
    status = 410
    code = "export_not_available"
    message = "There is no export to download: ask for one, wait until it is ready; each is downloaded once."


def _person(request):
    """The signed-in person (an API key acts for an organisation, never for a person's rights)."""
    if getattr(request, "principal", None) is not None or not request.user.is_authenticated:
        raise Forbidden()
    return request.user


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


class PrivacyOut(Schema):
    export_state: str | None
    export_progress: int | None
    deletion_due_at: datetime.datetime | None


def _status(user) -> dict:
    export = personal_export.latest(user)
    deletion = account_deletion.pending(user)
    return {"export_state": export.state if export else None, "export_progress": export.progress if export else None,
            "deletion_due_at": deletion.due_at if deletion else None}


@router.get("/me/privacy", response=PrivacyOut)
@authenticated
def my_privacy(request):
    return _status(_person(request))


@router.post("/me/export", response={202: PrivacyOut})
@authenticated
def request_my_export(request):
    """Build a copy of everything Bastion holds about you (a job); you are emailed when it is ready."""
    from bastion.operations.tasks import build_personal_export

    export = personal_export.request(_person(request))
    build_personal_export(export.id)
    return Status(202, _status(request.user))


@router.get("/me/export/download", openapi_extra={"responses": {"410": error_response(ExportGone.message)}})
@authenticated
def download_my_export(request):
    try:
        content = personal_export.download(_person(request))
    except personal_export.NotReady:
        raise ExportGone() from None
    return FileResponse(content, as_attachment=True, filename="bastion-my-data.zip", content_type="application/zip")


class ProfileIn(Schema):
    first_name: Text | None = Field(None, max_length=150)
    last_name: Text | None = Field(None, max_length=150)


class ProfileOut(Schema):
    email: str
    first_name: str
    last_name: str
    change_email: str = Field("/accounts/email/", description="confirmed at the new address, notified at the old")


@router.patch("/me/profile", response=ProfileOut)
@authenticated
def correct_my_profile(request, payload: ProfileIn):
    user = _person(request)
    changes = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    if changes:
        profile.correct(user, changes)
    return {"email": user.email, "first_name": user.first_name, "last_name": user.last_name}


class DeletionOut(Schema):
    due_at: datetime.datetime
    cancel: str = Field("DELETE /api/v1/me/deletion, or the link emailed to you", description="how to cancel")


@router.post("/me/deletion", response={202: DeletionOut})
@authenticated
def request_my_deletion(request):
    """Needs a second factor used just now. After the grace period, your data is erased."""
    user = _person(request)
    reauthentication.require(request)
    try:
        deletion = account_deletion.request_deletion(user, base_url=_base_url(request))
    except erasure.SoleOwner as exc:
        raise SoleOwnerConflict(exc) from None
    return Status(202, {"due_at": deletion.due_at})


@router.delete("/me/deletion", response={204: None})
@authenticated
def cancel_my_deletion(request):
    deletion = account_deletion.pending(_person(request))
    if deletion is None:
        raise NotFound()
    account_deletion.cancel(deletion)
    return Status(204, None)


# Platform staff: requests that arrived by email ---------------------------------------------


def _staff(request):
    """Requests that arrive by email are customer support's work: the support role only."""
    user = _person(request)
    if not is_staff(user, "support"):
        raise Forbidden()
    return user


class SubjectRequestIn(Schema):
    kind: str = Field(..., pattern="^(access|rectification|erasure|portability)$")
    requester_email: Text = Field(..., max_length=254)
    received_at: datetime.datetime
    notes: Text = Field("", max_length=5000)


class SubjectRequestPatch(Schema):
    id: uuid.UUID
    verification: str | None = Field(None, pattern="^(pending|verified|failed)$")
    state: str | None = Field(None, pattern="^(open|completed|refused)$")
    notes: Text | None = Field(None, max_length=5000)


class SubjectRequestOut(Schema):
    id: uuid.UUID
    kind: str
    requester_email: str
    received_at: datetime.datetime
    deadline: datetime.datetime
    verification: str
    state: str
    notes: str


@router.get("/privacy/requests", response=list[SubjectRequestOut])
@authenticated
def list_subject_requests(request):
    _staff(request)
    return list(SubjectRequest.objects.filter(state="open"))


@router.post("/privacy/requests", response={201: SubjectRequestOut})
@authenticated
def record_subject_request(request, payload: SubjectRequestIn):
    staff = _staff(request)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(email__iexact=payload.requester_email).first()
    return Status(201, subject_requests.record(kind=payload.kind, requester_email=payload.requester_email,
                                               received_at=payload.received_at, staff=staff, user=user,
                                               notes=payload.notes))


@router.post("/privacy/requests/update", response=SubjectRequestOut)
@authenticated
def update_subject_request(request, payload: SubjectRequestPatch):
    _staff(request)
    found = SubjectRequest.objects.filter(id=payload.id).first()
    if found is None:
        raise NotFound()
    return subject_requests.update(found, verification=payload.verification, state=payload.state, notes=payload.notes)


# An organisation's data ---------------------------------------------------------------------


class OrganisationExportOut(Schema):
    id: uuid.UUID
    size: int
    sha256: str
    expires_at: datetime.datetime
    download: str = Field(..., description="GET it once: the export is deleted as it is downloaded")


@router.post("/orgs/{org}/export", response={201: OrganisationExportOut})
@requires("organisation.delete")
def export_organisation(request, org: str):
    """Owners only: records, suppliers, evidence files, members, roles and the audit log with its proofs."""
    organisation = request.access.organisation
    artifact = organisation_export.export(organisation)
    return Status(201, {"id": artifact.id, "size": artifact.size, "sha256": artifact.sha256,
                        "expires_at": artifact.expires_at,
                        "download": f"/api/v1/orgs/{organisation.slug}/export/{artifact.id}"})


@router.get("/orgs/{org}/export/{artifact_id}")
@requires("organisation.delete")
def download_organisation_export(request, org: str, artifact_id: uuid.UUID):
    artifact = request.path_objects["artifact_id"]
    if artifact.purpose != "organisation_export":
        raise NotFound()
    return FileResponse(artifacts.consume(artifact), as_attachment=True,
                        filename=f"organisation-{request.access.organisation.slug}.zip", content_type="application/zip")


class RetentionIn(Schema):
    data_class: str = Field(..., max_length=30)
    days: int | None = Field(..., ge=1, description="null: back to the platform's default")


@router.get("/orgs/{org}/retention")
@requires("organisation.view")
def get_retention(request, org: str):
    return retention.effective(request.access.organisation.id)


@router.put("/orgs/{org}/retention")
@requires("organisation.manage")
def set_retention(request, org: str, payload: RetentionIn):
    return retention.set_policy(request.access.organisation, payload.data_class, payload.days)


class LegalHoldIn(Schema):
    reason: Text = Field(..., min_length=1, max_length=500)
    workspace: uuid.UUID | None = None
    project: uuid.UUID | None = None


class LegalHoldRelease(Schema):
    id: uuid.UUID


class LegalHoldOut(Schema):
    id: uuid.UUID
    scope: str
    workspace: uuid.UUID | None = Field(None, alias="workspace_id")
    project: uuid.UUID | None = Field(None, alias="project_id")
    reason: str
    placed_by: str = Field(..., alias="placed_by_label")
    placed_at: datetime.datetime
    released_at: datetime.datetime | None


@router.get("/orgs/{org}/legal-holds", response=list[LegalHoldOut])
@requires("organisation.delete")
def list_legal_holds(request, org: str):
    return list(LegalHold.objects.filter(organisation_id=request.access.organisation.id))


@router.post("/orgs/{org}/legal-holds", response={201: LegalHoldOut})
@requires("organisation.delete")
def place_legal_hold(request, org: str, payload: LegalHoldIn):
    """Owners only: suspends retention deletion, organisation deletion and members' erasure under it."""
    organisation = request.access.organisation
    workspace = project = None
    if payload.workspace is not None:
        workspace = Workspace.objects.filter(organisation_id=organisation.id, id=payload.workspace).first()
        if workspace is None:
            raise NotFound()
    if payload.project is not None:
        project = Project.objects.filter(organisation_id=organisation.id, id=payload.project).first()
        if project is None:
            raise NotFound()
    label = request.user.get_username() if request.user.is_authenticated else ""
    return Status(201, holds.place(organisation, reason=payload.reason, workspace=workspace, project=project,
                                   placed_by_label=label))


@router.post("/orgs/{org}/legal-holds/release", response=LegalHoldOut)
@requires("organisation.delete")
def release_legal_hold(request, org: str, payload: LegalHoldRelease):
    hold = LegalHold.objects.filter(organisation_id=request.access.organisation.id, id=payload.id).first()
    if hold is None:
        raise NotFound()
    return holds.release(hold)
