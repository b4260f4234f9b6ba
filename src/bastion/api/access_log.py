"""The organisation's read-access log: browse it, and choose what it records."""
# No "from __future__ import annotations": django-ninja reads these signatures at runtime.

import datetime

from ninja import Query, Schema

from bastion.access_log import configuration, people, queries
from bastion.access_log.models import AccessBatch
from bastion.api.pagination import paginate
from bastion.api.routing import AuthorizingRouter
from bastion.api.schemas import PageQuery, Text, page_of
from bastion.tenancy.access import requires

router = AuthorizingRouter(tags=["access log"])


class AccessLogQuery(PageQuery):
    actor: Text = ""
    resource_type: Text = ""
    resource_id: Text = ""
    kind: Text = ""


class AccessActorOut(Schema):
    type: str
    id: str
    label: str


class AccessBatchOut(Schema):
    seq: int
    time: datetime.datetime
    kind: str
    actor: AccessActorOut
    resources: list[list[str]]
    request_id: str
    grant_id: str | None
    prev_hash: str
    hash: str


class AccessLogSettingsOut(Schema):
    record_views: bool
    evidence_downloads: bool
    exports: bool
    credential_previews: bool


class AccessLogSettingsIn(Schema):
    record_views: bool | None = None
    evidence_downloads: bool | None = None
    exports: bool | None = None
    credential_previews: bool | None = None


def batch_out(batch: AccessBatch, label: str) -> dict:
    return {"seq": batch.seq, "time": batch.occurred_at, "kind": batch.kind,
            "actor": {"type": batch.actor_type, "id": batch.actor_id, "label": label},
            "resources": batch.resources, "request_id": batch.request_id,
            "grant_id": str(batch.grant_id) if batch.grant_id else None, "prev_hash": batch.prev_hash,
            "hash": batch.hash}


@router.get("/orgs/{org}/access-log", response=page_of(AccessBatchOut))
@requires("audit.view")
def list_access_log(request, org: str, q: Query[AccessLogQuery]):
    """Who viewed or downloaded what, newest first; one entry per request, listing everything it showed."""
    found = queries.batches(request.access.organisation.id, actor=q.actor, resource_type=q.resource_type,
                            resource_id=q.resource_id, kind=q.kind)
    page = paginate(found, q.page, q.page_size)
    shown = people.labels(page["items"])
    page["items"] = [batch_out(b, shown[b.pk]) for b in page["items"]]
    return page


@router.get("/orgs/{org}/access-log/settings", response=AccessLogSettingsOut)
@requires("organisation.manage")
def get_access_log_settings(request, org: str):
    return configuration.as_dict(configuration.current(request.access.organisation.id))


@router.patch("/orgs/{org}/access-log/settings", response=AccessLogSettingsOut)
@requires("organisation.manage")
def update_access_log_settings(request, org: str, payload: AccessLogSettingsIn):
    """Evidence downloads, exports and credential previews are recorded by default; record views when turned on."""
    return configuration.as_dict(configuration.update(request.access.organisation.id, **payload.dict()))
