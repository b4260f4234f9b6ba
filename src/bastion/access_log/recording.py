"""Record what a request showed: one append to the organisation's read-access chain per request."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from bastion.access_log import people
from bastion.access_log.configuration import enabled
from bastion.access_log.models import AccessBatch, AccessLogHead
from bastion.audit.context import current_actor, request_metadata
from bastion.audit.format import entry_hash, format_time

FORMAT = "bastion-access-log/1"


def batch_body(*, organisation: str, seq: int, time: str, kind: str, actor_type: str, actor_id: str, actor_label: str,
               resources: list[list[str]], request_id: str, grant_id: str | None) -> dict[str, Any]:
    return {"format": FORMAT, "organisation": organisation, "seq": seq, "time": time, "kind": kind,
            "actor": {"type": actor_type, "id": actor_id, "label": actor_label}, "resources": resources,
            "request_id": request_id, "grant_id": grant_id}


def body_of(batch: AccessBatch) -> dict[str, Any]:
    return batch_body(organisation=str(batch.organisation_id), seq=batch.seq, time=format_time(batch.occurred_at),
                      kind=batch.kind, actor_type=batch.actor_type, actor_id=batch.actor_id,
                      actor_label=batch.actor_label, resources=batch.resources, request_id=batch.request_id,
                      grant_id=str(batch.grant_id) if batch.grant_id else None)


def _locked_head(organisation_id: uuid.UUID) -> AccessLogHead:
    AccessLogHead.all_tenants.bulk_create([AccessLogHead(organisation_id=organisation_id)], ignore_conflicts=True)
    return AccessLogHead.all_tenants.select_for_update().get(organisation_id=organisation_id)


def record(organisation_id: uuid.UUID, kind: str, resources: Iterable[tuple[str, Any]], *,
           grant_id: uuid.UUID | None = None) -> AccessBatch | None:
    """Append one batch listing ``resources`` (``(type, id)`` pairs) if the organisation logs ``kind``."""
    shown = [[str(kind_), str(item)] for kind_, item in resources]
    if not shown or not enabled(organisation_id, kind):
        return None
    actor = current_actor()
    actor_id, actor_label = people.recorded(organisation_id, actor)
    _ip, _agent, request_id = request_metadata()
    with transaction.atomic():
        head = _locked_head(organisation_id)
        moment = timezone.now()
        seq = head.seq + 1
        body = batch_body(organisation=str(organisation_id), seq=seq, time=format_time(moment), kind=kind,
                          actor_type=actor.type, actor_id=actor_id, actor_label=actor_label, resources=shown,
                          request_id=request_id, grant_id=str(grant_id) if grant_id else None)
        digest = entry_hash(bytes.fromhex(head.hash), body).hex()
        batch = AccessBatch.all_tenants.create(
            organisation_id=organisation_id, seq=seq, occurred_at=moment, kind=kind, actor_type=actor.type,
            actor_id=actor_id, actor_label=actor_label, resources=shown,
            resource_keys=" " + " ".join(f"{t}:{i}" for t, i in shown) + " ", request_id=request_id,
            grant_id=grant_id, prev_hash=head.hash, hash=digest)
        head.seq, head.hash = seq, digest
        head.save(update_fields=["seq", "hash"])
    return batch


def verify(organisation_id: uuid.UUID) -> int | None:
    """The first batch whose hash or link does not hold, or None when the whole chain does."""
    previous = bytes(32).hex()
    expected = 1
    for batch in AccessBatch.all_tenants.filter(organisation_id=organisation_id).order_by("seq").iterator():
        if batch.seq != expected or batch.prev_hash != previous or \
                entry_hash(bytes.fromhex(previous), body_of(batch)).hex() != batch.hash:
            return batch.seq
        previous, expected = batch.hash, expected + 1
    return None


def shown(access: Any, kind: str, resource_type: str, items: Iterable[Any]) -> None:
    """What a view calls with its ``request.access``: the objects it is about to show, in one batch.
    (``access.grant_id`` is the support-access grant a staff request runs under, when it does.)"""
    record(access.organisation.id, kind, ((resource_type, item.id) for item in items),
           grant_id=getattr(access, "grant_id", None))
