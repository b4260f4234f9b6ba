"""The life of a staff access request: asked → approved (by one or two of the organisation's
admins; never by the asker) or denied, or expired unanswered → a grant open on the clock until it
ends or the organisation revokes it → reviewed by an organisation admin and a security-role staff
member. Break-glass: a second staff member (security role) opens a short grant at once, the
organisation is told immediately, and the grant waits for review like any other.

Each step is one transaction with its audit event in the organisation's chain; emails go out after
the commit (``notifications``)."""

from __future__ import annotations

import datetime
import functools
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction

from bastion.audit import chain as audit
from bastion.support_access import clock, notifications
from bastion.support_access.audit_actions import (
    ACCESS_APPROVED,
    ACCESS_DENIED,
    ACCESS_EXPIRED,
    ACCESS_REQUESTED,
    BREAK_GLASS_OPENED,
    GRANT_OPENED,
    GRANT_REVIEWED,
    GRANT_REVOKED,
    POLICY_CHANGED,
)
from bastion.support_access.models import (
    BREAK_GLASS_MAX_MINUTES,
    MAX_MINUTES,
    MODES,
    REASONS,
    AccessPolicy,
    AccessRequest,
)
from bastion.support_access.staff import is_staff
from bastion.tenancy import context
from bastion.tenancy.models import Organisation, Project, Workspace

ANSWER_WITHIN = datetime.timedelta(hours=24)
ASKERS = ("support", "security")  # operators run the platform: they have no reason to read customers' data


class Refused(ValidationError):
    """A step that is not allowed (self-approval, a second vote, a request no longer pending…)."""


def _refuse(message: str, code: str) -> Refused:
    return Refused(message, code=code)


def _summary(request: AccessRequest) -> dict:
    return {"grant": str(request.id), "requested_by": request.requested_by_label, "reason": request.reason,
            "reference": request.reference, "mode": request.mode, "minutes": request.minutes,
            "workspaces": request.workspace_ids, "projects": request.project_ids, "break_glass": request.break_glass}


def _audit(action: str, request: AccessRequest, **extra) -> None:
    audit.record(action, organisation_id=request.organisation_id, resource_type="accessrequest",
                 resource_id=request.id, changes={**_summary(request), **extra})


def approvers_required(organisation_id: uuid.UUID) -> int:
    policy = AccessPolicy.all_tenants.filter(organisation_id=organisation_id).first()
    return policy.approvers_required if policy else 1


def set_policy(organisation: Organisation, approvers: int) -> None:
    if approvers not in (1, 2):
        raise _refuse("Choose one or two approvers.", "approvers")
    with context.tenant_context(organisation.id):
        policy, _ = AccessPolicy.objects.get_or_create(organisation=organisation)
        before = policy.approvers_required
        policy.approvers_required = approvers
        policy.save()
        audit.record(POLICY_CHANGED, organisation_id=organisation.id, resource_type="accesspolicy",
                     resource_id=policy.id, changes={"approvers_required": [before, approvers]})


def ask(staff, organisation_slug: str, *, reason: str, reference: str = "", details: str = "", mode: str = "read_only",
        minutes: int = 60, workspace_ids: Iterable[str] = (), project_ids: Iterable[str] = (),
        break_glass: bool = False, base_url: str = "") -> AccessRequest:
    if not is_staff(staff, *ASKERS):
        raise _refuse("Only support and security staff may ask for access.", "not_allowed")
    errors = {}
    if reason not in dict(REASONS):
        errors["reason"] = "Choose support, incident or legal."
    if mode not in dict(MODES):
        errors["mode"] = "Choose read-only or read and write."
    limit = BREAK_GLASS_MAX_MINUTES if break_glass else MAX_MINUTES
    if not isinstance(minutes, int) or not 1 <= minutes <= limit:
        errors["minutes"] = f"Between 1 and {limit} minutes."
    if reason == "support" and not reference.strip():
        errors["reference"] = "Customer-initiated support needs the ticket reference."
    if break_glass and reason != "incident":
        errors["reason"] = "Break-glass access is for incident response only."
    if errors:
        raise ValidationError(errors)
    with context.platform_scope():
        organisation = Organisation.objects.filter(slug=organisation_slug).first()
    if organisation is None:
        raise ValidationError({"organisation": "No such organisation."})
    now = clock.now()
    with context.tenant_context(organisation.id):
        workspaces = _ids(Workspace, workspace_ids, "workspaces")
        projects = _ids(Project, project_ids, "projects")
        request = AccessRequest.objects.create(
            organisation=organisation, requested_by=staff, requested_by_label=staff.email, reason=reason,
            reference=reference.strip()[:200], details=details.strip()[:2000], mode=mode, minutes=minutes,
            workspace_ids=workspaces, project_ids=projects, break_glass=break_glass, created_at=now,
            answer_by=now + ANSWER_WITHIN, approvers_required=approvers_required(organisation.id))
        _audit(ACCESS_REQUESTED, request)
        if not break_glass:  # break-glass is told to the organisation when it opens, at once
            transaction.on_commit(lambda: notifications.request_made(request.id, base_url))
    return request


def _ids(model, values: Iterable[str], field: str) -> list[str]:
    values = [str(v).strip() for v in values if str(v).strip()]
    try:
        wanted = {uuid.UUID(v) for v in values}
    except ValueError:
        raise ValidationError({field: "Not an id."}) from None
    found = set(model.objects.filter(id__in=wanted).values_list("id", flat=True))
    if found != wanted:
        raise ValidationError({field: "No such one in this organisation."})
    return sorted(str(v) for v in wanted)


def _pending(request: AccessRequest) -> None:
    if request.state != "pending":
        raise _refuse("This request is no longer waiting for an answer.", "not_pending")
    if request.answer_by <= clock.now():
        raise _refuse("This request expired unanswered.", "expired")


def approve(request: AccessRequest, admin, base_url: str = "") -> AccessRequest:
    """One organisation admin's approval (the view authorized them); the grant opens when enough have."""
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().get(pk=request.pk)
        _pending(request)
        if request.break_glass:
            raise _refuse("Break-glass access is approved by a second staff member.", "break_glass")
        if admin.pk == request.requested_by_id:
            raise _refuse("Nobody approves their own request.", "self_approval")
        if any(a["user"] == admin.pk for a in request.approvals):
            raise _refuse("You have approved this request already: another admin must too.", "already_approved")
        now = clock.now()
        request.approvals = [*request.approvals, {"user": admin.pk, "label": admin.email, "at": now.isoformat()}]
        _audit(ACCESS_APPROVED, request, approvals=len(request.approvals), needed=request.approvers_required)
        if len(request.approvals) >= request.approvers_required:
            _open(request, now, by=admin.email)
            _audit(GRANT_OPENED, request, starts_at=request.starts_at, ends_at=request.ends_at)
        request.save()
    return request


def _open(request: AccessRequest, now: datetime.datetime, *, by: str) -> None:
    request.state = "approved"
    request.decided_at = now
    request.decided_by_label = by
    request.starts_at = now
    request.ends_at = now + datetime.timedelta(minutes=request.minutes)


def deny(request: AccessRequest, admin) -> AccessRequest:
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().get(pk=request.pk)
        _pending(request)
        request.state, request.decided_at, request.decided_by_label = "denied", clock.now(), admin.email
        request.save()
        _audit(ACCESS_DENIED, request)
    return request


def revoke(request: AccessRequest, admin) -> AccessRequest:
    """The organisation ends a grant now (the next request under it is already refused)."""
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().get(pk=request.pk)
        now = clock.now()
        if request.state == "pending":
            request.state, request.decided_at, request.decided_by_label = "denied", now, admin.email
            request.save()
            _audit(ACCESS_DENIED, request)
            return request
        if not request.is_open_at(now):
            raise _refuse("This grant is not open.", "not_open")
        request.revoked_at, request.revoked_by_label = now, admin.email
        request.save()
        _audit(GRANT_REVOKED, request)
    return request


def break_glass_approve(request_id: uuid.UUID, second, base_url: str = "") -> AccessRequest:
    """A second staff member (security role) opens a break-glass grant at once; the organisation's
    admins are emailed immediately, and the grant waits for review."""
    if not is_staff(second, "security"):
        raise _refuse("Break-glass access is approved by a security-role staff member.", "not_allowed")
    with context.platform_scope():
        found = AccessRequest.all_tenants.filter(id=request_id, break_glass=True).first()
    if found is None:
        raise _refuse("No such break-glass request.", "not_found")
    with context.tenant_context(found.organisation_id):
        request = AccessRequest.objects.select_for_update().get(pk=found.pk)
        _pending(request)
        if second.pk == request.requested_by_id:
            raise _refuse("Nobody approves their own request.", "self_approval")
        now = clock.now()
        request.approvals = [{"user": second.pk, "label": second.email, "at": now.isoformat()}]
        _open(request, now, by=second.email)
        request.save()
        _audit(BREAK_GLASS_OPENED, request, approved_by=second.email, starts_at=request.starts_at,
               ends_at=request.ends_at)
        transaction.on_commit(lambda: notifications.break_glass_opened(request.id, base_url))
    return request


def review(request: AccessRequest, reviewer, *, as_staff: bool) -> AccessRequest:
    """Mark an ended grant reviewed, by an organisation admin or (``as_staff``) a security-role staff member."""
    if as_staff and not is_staff(reviewer, "security"):
        raise _refuse("Grants are reviewed by security-role staff.", "not_allowed")
    with transaction.atomic():
        request = AccessRequest.objects.select_for_update().get(pk=request.pk)
        now = clock.now()
        if not request.has_ended_at(now):
            raise _refuse("A grant is reviewed after it ends.", "not_ended")
        if as_staff:
            if request.requested_by_id == reviewer.pk:
                raise _refuse("Nobody reviews their own grant.", "self_review")
            request.staff_reviewed_at, request.staff_reviewed_by_label = now, reviewer.email
        else:
            request.org_reviewed_at, request.org_reviewed_by_label = now, reviewer.email
        request.save()
        _audit(GRANT_REVIEWED, request, reviewer=reviewer.email, side="staff" if as_staff else "organisation")
    return request


def expire_and_ask_for_reviews(base_url: str = "") -> dict[str, int]:
    """The scheduled job: pending requests past their answer-by expire; grants that ended get their
    review task (an email to the organisation's admins and the security staff)."""
    now = clock.now()
    with context.platform_scope():
        stale = list(AccessRequest.all_tenants.filter(state="pending", answer_by__lte=now).values_list(
            "id", "organisation_id"))
        ended = list(AccessRequest.all_tenants.filter(state="approved", review_asked_at__isnull=True).values_list(
            "id", "organisation_id", "ends_at", "revoked_at"))
    expired = asked = 0
    for request_id, organisation_id in stale:
        with context.tenant_context(organisation_id):
            request = AccessRequest.objects.select_for_update().get(pk=request_id)
            if request.state == "pending":
                request.state, request.decided_at = "expired", now
                request.save()
                _audit(ACCESS_EXPIRED, request)
                expired += 1
    for request_id, organisation_id, ends_at, revoked_at in ended:
        if revoked_at is None and ends_at > now:
            continue
        with context.tenant_context(organisation_id):
            AccessRequest.objects.filter(pk=request_id).update(review_asked_at=now)
            transaction.on_commit(functools.partial(notifications.review_due, request_id, base_url))
            asked += 1
    return {"expired": expired, "reviews_asked": asked}


def unreviewed(organisation_id: uuid.UUID) -> list[AccessRequest]:
    now = clock.now()
    return [r for r in AccessRequest.objects.filter(organisation_id=organisation_id, state="approved")
            if r.has_ended_at(now) and not r.reviewed]
