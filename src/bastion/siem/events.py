"""The events a destination receives, in sequence order per stream: the organisation's audit chain
("audit") and its read-access log ("access"). People appear as in the chains themselves: audit events
name their actor by pseudonym only."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import QuerySet

from bastion.access_log.models import AccessBatch
from bastion.audit.format import format_time
from bastion.audit.models import AuditEvent


def _audit(event: AuditEvent) -> dict[str, Any]:
    return {"stream": "audit", "organisation": str(event.chain_id), "seq": event.seq,
            "time": format_time(event.occurred_at), "action": event.action,
            "actor": {"type": event.actor_type, "id": event.actor_id},
            "resource": {"type": event.resource_type, "id": event.resource_id}, "changes": event.changes,
            "request_id": event.request_id, "prev_hash": event.prev_hash, "hash": event.hash}


def _access(batch: AccessBatch) -> dict[str, Any]:
    return {"stream": "access", "organisation": str(batch.organisation_id), "seq": batch.seq,
            "time": format_time(batch.occurred_at), "kind": batch.kind,
            "actor": {"type": batch.actor_type, "id": batch.actor_id, "label": batch.actor_label},
            "resources": batch.resources, "request_id": batch.request_id,
            "grant_id": str(batch.grant_id) if batch.grant_id else None, "prev_hash": batch.prev_hash,
            "hash": batch.hash}


def after(organisation_id: uuid.UUID, stream: str, cursor: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` events of ``stream`` past ``cursor``, oldest first (run in the organisation's context)."""
    if stream == "audit":
        return [_audit(e) for e in AuditEvent.objects.filter(chain_id=organisation_id, seq__gt=cursor).order_by("seq")[:limit]]
    return [_access(b) for b in AccessBatch.all_tenants.filter(organisation_id=organisation_id, seq__gt=cursor)
            .order_by("seq")[:limit]]


def oldest_pending(organisation_id: uuid.UUID, stream: str, cursor: int) -> tuple[int, datetime.datetime | None]:
    """How many events wait past ``cursor``, and when the oldest of them happened."""
    pending: QuerySet[AuditEvent] | QuerySet[AccessBatch]
    if stream == "audit":
        pending = AuditEvent.objects.filter(chain_id=organisation_id, seq__gt=cursor)
    else:
        pending = AccessBatch.all_tenants.filter(organisation_id=organisation_id, seq__gt=cursor)
    first = pending.order_by("seq").values_list("occurred_at", flat=True).first()
    return pending.count(), first
