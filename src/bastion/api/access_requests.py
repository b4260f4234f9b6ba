"""Staff access requests for the organisation's admins: list them, approve, deny, revoke a grant,
mark an ended one reviewed, and read the feed of what staff did under grants (access transparency);
and for a staff member, their own requests (asking is done in the staff console, with step-up)."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid

from django.core.exceptions import ValidationError
from ninja import Schema

from bastion.api.routing import AuthorizingRouter
from bastion.support_access import clock, notifications, requests, transparency
from bastion.support_access.models import AccessRequest
from bastion.support_access.staff import is_staff
from bastion.tenancy import context
from bastion.tenancy.access import Forbidden, NotFound, authenticated, requires

router = AuthorizingRouter(tags=["staff access"])
DECIDE = notifications.DECIDE_PERMISSION


class Refusal(Forbidden):
    status = 409
    code = "refused"

    def __init__(self, error: ValidationError) -> None:
        super().__init__()
        self.code = getattr(error, "code", None) or "refused"
        self.message = " ".join(error.messages)


class AccessRequestOut(Schema):
    id: uuid.UUID
    requested_by: str
    reason: str
    reference: str
    details: str
    mode: str
    minutes: int
    workspace_ids: list[str]
    project_ids: list[str]
    break_glass: bool
    state: str
    open: bool
    created_at: datetime.datetime
    answer_by: datetime.datetime
    approvers_required: int
    approvals: list[str]
    starts_at: datetime.datetime | None
    ends_at: datetime.datetime | None
    revoked_at: datetime.datetime | None
    org_reviewed_at: datetime.datetime | None
    staff_reviewed_at: datetime.datetime | None


class GrantUseOut(Schema):
    seq: int
    occurred_at: datetime.datetime
    staff_member: str
    grant: str
    reason: str
    reference: str
    method: str
    path: str
    status: int | None


def _out(request: AccessRequest) -> dict:
    return {**{f: getattr(request, f) for f in AccessRequestOut.model_fields if hasattr(request, f)},
            "requested_by": request.requested_by_label, "open": request.is_open_at(clock.now()),
            "approvals": [a["label"] for a in request.approvals]}


def _find(request, access_request_id) -> AccessRequest:
    found = AccessRequest.objects.filter(id=access_request_id, organisation=request.access.organisation).first()
    if found is None:
        raise NotFound()
    return found


def _person(request):
    if not request.user.is_authenticated or getattr(request, "principal", None) is not None:
        raise Forbidden()  # answered by people: an API key cannot approve staff access
    return request.user


def _do(request, access_request_id, act) -> dict:
    person = _person(request)
    try:
        return _out(act(_find(request, access_request_id), person))
    except ValidationError as error:
        raise Refusal(error) from None


@router.get("/orgs/{org}/access-requests", response=list[AccessRequestOut])
@requires(DECIDE)
def list_access_requests(request, org: str):
    return [_out(r) for r in AccessRequest.objects.filter(organisation=request.access.organisation)[:200]]


@router.get("/orgs/{org}/access-requests/feed", response=list[GrantUseOut])
@requires(DECIDE)
def access_feed(request, org: str):
    """What staff did under grants, newest first (each an event of the organisation's audit chain)."""
    return [{"seq": e.seq, "occurred_at": e.occurred_at, "staff_member": e.actor_label,
             "grant": e.changes.get("grant", ""), "reason": e.changes.get("reason", ""),
             "reference": e.changes.get("reference", ""), "method": e.changes.get("method", ""),
             "path": e.changes.get("path", ""), "status": e.changes.get("status")}
            for e in transparency.feed(request.access.organisation.id)]


@router.post("/orgs/{org}/access-requests/{access_request_id}/approve", response=AccessRequestOut)
@requires(DECIDE)
def approve_access_request(request, org: str, access_request_id: uuid.UUID):
    return _do(request, access_request_id, requests.approve)


@router.post("/orgs/{org}/access-requests/{access_request_id}/deny", response=AccessRequestOut)
@requires(DECIDE)
def deny_access_request(request, org: str, access_request_id: uuid.UUID):
    return _do(request, access_request_id, requests.deny)


@router.post("/orgs/{org}/access-requests/{access_request_id}/revoke", response=AccessRequestOut)
@requires(DECIDE)
def revoke_access_grant(request, org: str, access_request_id: uuid.UUID):
    return _do(request, access_request_id, requests.revoke)


@router.post("/orgs/{org}/access-requests/{access_request_id}/review", response=AccessRequestOut)
@requires(DECIDE)
def review_access_grant(request, org: str, access_request_id: uuid.UUID):
    return _do(request, access_request_id, lambda r, person: requests.review(r, person, as_staff=False))


class StaffAccessRequestOut(AccessRequestOut):
    organisation: str


@router.get("/staff/access-requests", response=list[StaffAccessRequestOut])
@authenticated
def my_access_requests(request):
    """A staff member's own requests and grants, in every organisation; to anyone else, no such path."""
    if not is_staff(request.user) or getattr(request, "principal", None) is not None:
        raise NotFound()
    with context.platform_scope():
        mine = list(AccessRequest.all_tenants.filter(requested_by=request.user).select_related("organisation")[:200])
    return [{**_out(r), "organisation": r.organisation.slug} for r in mine]
