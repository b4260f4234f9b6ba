"""The personal-data-breach notices Bastion sent the organisation (GDPR Art. 33): a list and each
notice, for members holding ``security.notices.view`` (owners and admins). Drafts are Bastion's
own until sent, and are never shown here."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime
import uuid

from django.shortcuts import get_object_or_404
from ninja import Query, Schema

from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import PageQuery, page_of
from bastion.incidents.models import SENT, BreachNotice
from bastion.tenancy.access import requires

router = AuthorizingRouter(tags=["notices"])


class CategoryOut(Schema):
    category: str
    records: int


class NoticeOut(Schema):
    id: uuid.UUID
    incident: str
    phase: int
    exercise: bool
    nature: str
    data_categories: list[CategoryOut]
    approx_subjects: int
    approx_records: int
    contact_point: str
    likely_consequences: str
    measures: str
    sent_at: datetime.datetime
    delay_reason: str


def notice_out(notice: BreachNotice) -> dict:
    return {"id": notice.id, "incident": notice.incident.reference, "phase": notice.phase,
            "exercise": notice.exercise, "nature": notice.nature, "data_categories": notice.data_categories,
            "approx_subjects": notice.approx_subjects, "approx_records": notice.approx_records,
            "contact_point": notice.contact_point, "likely_consequences": notice.likely_consequences,
            "measures": notice.measures, "sent_at": notice.sent_at, "delay_reason": notice.delay_reason}


def _sent(request):
    return (BreachNotice.objects.filter(organisation_id=request.access.organisation.id, status=SENT)
            .select_related("incident").order_by("-sent_at"))


@router.get("/orgs/{org}/notices", response=page_of(NoticeOut))
@requires("security.notices.view")
def list_notices(request, org: str, q: Query[PageQuery]):
    page = paginate(_sent(request), q.page, q.page_size)
    page["items"] = [notice_out(n) for n in page["items"]]
    return page


@router.get("/orgs/{org}/notices/{notice_id}", response=NoticeOut)
@requires("security.notices.view")
def get_notice(request, org: str, notice_id: uuid.UUID):
    return notice_out(get_object_or_404(_sent(request), id=notice_id))
