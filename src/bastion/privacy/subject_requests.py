"""Data-subject requests that arrive by email (privacy@): platform staff record them here, with
the requester's identity verification and the statutory deadline, one month from receipt
(Art. 12(3) GDPR; extendable by two further months, noted in ``notes``)."""

from __future__ import annotations

import calendar
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from bastion.audit import chain as audit
from bastion.privacy.audit_actions import SUBJECT_REQUEST_RECORDED, SUBJECT_REQUEST_UPDATED
from bastion.privacy.models import SubjectRequest


def one_month_after(moment: datetime.datetime) -> datetime.datetime:
    """The same day next month, or that month's last day when it is shorter (31 January → 28/29 February)."""
    year, month = (moment.year + 1, 1) if moment.month == 12 else (moment.year, moment.month + 1)
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def record(*, kind: str, requester_email: str, received_at: datetime.datetime, staff, user=None,
           notes: str = "") -> SubjectRequest:
    request = SubjectRequest(kind=kind, requester_email=requester_email, received_at=received_at, user=user,
                             deadline=one_month_after(received_at), notes=notes, recorded_by_id=staff.pk)
    request.full_clean()
    with transaction.atomic():
        request.save()
        audit.record(SUBJECT_REQUEST_RECORDED, resource_type="subject_request", resource_id=request.id,
                     changes={"kind": kind, "deadline": request.deadline})
    return request


def update(request: SubjectRequest, *, verification: str | None = None, state: str | None = None,
           notes: str | None = None) -> SubjectRequest:
    before = {"verification": request.verification, "state": request.state}
    if state in ("completed",) and (verification or request.verification) != "verified":
        raise ValidationError({"state": ValidationError("Verify the requester's identity first.", code="unverified")})
    for name, value in (("verification", verification), ("state", state), ("notes", notes)):
        if value is not None:
            setattr(request, name, value)
    request.full_clean()
    with transaction.atomic():
        request.save()
        audit.record(SUBJECT_REQUEST_UPDATED, resource_type="subject_request", resource_id=request.id,
                     changes={"verification": [before["verification"], request.verification],
                              "state": [before["state"], request.state]})
    return request
