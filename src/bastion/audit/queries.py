"""Reading an organisation's log: filtered event lists, the chain head and the last verification."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import QuerySet

from bastion.audit.models import AuditEvent, ChainHead, Checkpoint, Pseudonym, VerificationResult


def _accounts(actor: str) -> list[int]:
    if actor.isdigit():
        return [int(actor)]
    return list(get_user_model().objects.filter(email__iexact=actor).values_list("pk", flat=True))


def events(chain_id: uuid.UUID | str, *, actor: str = "", action: str = "", resource_type: str = "", resource_id: str = "",
           since: datetime.datetime | None = None, until: datetime.datetime | None = None) -> QuerySet[AuditEvent]:
    """Newest first. ``actor`` matches the actor's id or label; ``action`` a name or a prefix ending in '.'."""
    queryset = AuditEvent.objects.filter(chain_id=chain_id).order_by("-seq")
    if actor:
        # Format 2 names people by pseudonym: an address or an account id finds theirs in this chain.
        people = Pseudonym.objects.filter(chain_id=chain_id, user_id__in=_accounts(actor))
        queryset = (queryset.filter(actor_label__iexact=actor) | queryset.filter(actor_id=actor)
                    | queryset.filter(actor_id__in=people.values("pseudonym")))
    if action:
        queryset = queryset.filter(action__startswith=action) if action.endswith(".") else queryset.filter(action=action)
    if resource_type:
        queryset = queryset.filter(resource_type=resource_type)
    if resource_id:
        queryset = queryset.filter(resource_id=resource_id)
    if since:
        queryset = queryset.filter(occurred_at__gte=since)
    if until:
        queryset = queryset.filter(occurred_at__lt=until)
    return queryset.order_by("-seq")


def status(chain_id: uuid.UUID | str) -> dict[str, Any]:
    head = ChainHead.objects.filter(chain_id=chain_id).first()
    last = VerificationResult.objects.filter(chain_id=chain_id).order_by("-finished_at").first()
    checkpoint = Checkpoint.objects.filter(chain_id=chain_id).order_by("-tree_size").first()
    return {
        "events": head.seq if head else 0,
        "head_hash": head.hash if head else None,
        "last_checkpoint": {"tree_size": checkpoint.tree_size, "root_hash": checkpoint.root_hash,
                            "time": checkpoint.time, "key_id": checkpoint.key_id,
                            "signature": checkpoint.signature} if checkpoint else None,
        "last_verification": {"ok": last.ok, "finished_at": last.finished_at, "events": last.events,
                              "first_bad_seq": last.first_bad_seq, "message": last.message} if last else None,
    }
