"""Append events to a chain: the one helper every change calls, inside the change's transaction.

Appends to one chain serialise on its ``ChainHead`` row (``SELECT … FOR UPDATE``); chains of
different organisations never wait for each other. On SQLite, writers are serialised by the
database itself (IMMEDIATE transactions).
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bastion.audit import checkpoints, personal, registry
from bastion.audit.checkpoints import enter_chain
from bastion.audit.context import Actor, current_actor, request_metadata
from bastion.audit.format import FORMAT_V2, entry_hash, event_body, event_body_v2, format_time
from bastion.audit.merkle import Frontier
from bastion.audit.models import AuditEvent, ChainHead
from bastion.audit.signals import event_appended
from bastion.db import rls
from bastion.db.platform import PLATFORM_ID

REDACTED = "[redacted]"


__all__ = ["enter_chain", "record", "body_of", "diff", "json_safe", "chain_of"]


class NotInTransaction(RuntimeError):
    pass


def json_safe(value: Any) -> Any:
    """Values as they are hashed and stored: JSON types only, no floats (their text is not stable)."""
    if value is None or isinstance(value, bool | int | str):
        return value.replace("\x00", "") if isinstance(value, str) else value
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [json_safe(item) for item in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, datetime.datetime):
        return format_time(value)
    if isinstance(value, datetime.date | Decimal | uuid.UUID | float):
        return str(value)
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any], *, sensitive: frozenset[str] = frozenset()) -> dict[str, Any]:
    """``{field: [before, after]}`` for the fields that changed; sensitive ones only say that they did."""
    changed = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if json_safe(old) != json_safe(new):
            changed[name] = [REDACTED, REDACTED] if name in sensitive else [old, new]
    return changed


def chain_of(organisation_id: uuid.UUID | str | None) -> str:
    return str(organisation_id) if organisation_id else PLATFORM_ID


def _locked_head(chain: str) -> ChainHead:
    ChainHead.objects.bulk_create([ChainHead(chain_id=chain)], ignore_conflicts=True)
    return ChainHead.objects.select_for_update().get(chain_id=chain)


def record(
    action: str,
    *,
    organisation_id: uuid.UUID | str | None = None,
    resource_type: str = "",
    resource_id: Any = "",
    changes: dict[str, Any] | None = None,
    actor: Actor | None = None,
) -> AuditEvent:
    """Append one event to the organisation's chain (or the platform's when there is none)."""
    registry.check(action)
    if not connection.in_atomic_block:
        raise NotInTransaction("audit events are appended inside the transaction of the change they record")
    chain = chain_of(organisation_id)
    if chain == PLATFORM_ID:
        # Platform events are readable only in platform scope, and INSERT … RETURNING reads the row.
        with rls.setting("bastion.scope", "platform"):
            return _append(chain, action, resource_type, resource_id, changes, actor or current_actor())
    return _append(chain, action, resource_type, resource_id, changes, actor or current_actor())


def _append(chain: str, action: str, resource_type: str, resource_id: Any, changes: dict[str, Any] | None,
            actor: Actor) -> AuditEvent:
    ip, user_agent, request_id = request_metadata()
    head = _locked_head(chain)
    moment = timezone.now()
    seq = head.seq + 1
    actor_id, actor_label, safe_changes, people = personal.split(
        chain, actor, ip, user_agent, json_safe(changes or {}), resource_type, str(resource_id))
    body = event_body_v2(
        chain=chain, seq=seq, time=format_time(moment), actor_type=actor.type, actor_id=actor_id,
        actor_label=actor_label, action=action, resource_type=resource_type, resource_id=str(resource_id),
        changes=safe_changes, request_id=request_id, personal=personal.store(chain, seq, people),
    )
    digest = entry_hash(bytes.fromhex(head.hash), body)
    event = AuditEvent.objects.create(
        chain_id=chain, seq=seq, occurred_at=moment, actor_type=actor.type, actor_id=actor_id,
        actor_label=actor_label, ip=None, user_agent="", action=action, resource_type=resource_type,
        resource_id=body["resource"]["id"], changes=body["changes"], request_id=request_id,
        prev_hash=head.hash, hash=digest.hex(), format=FORMAT_V2, personal=body["personal"],
    )
    frontier = Frontier.from_json(head.frontier)
    frontier.append(digest)
    head.seq, head.hash, head.frontier = seq, digest.hex(), frontier.to_json()
    if head.seq - head.checkpointed_size >= settings.BASTION_AUDIT_CHECKPOINT_EVERY:
        checkpoints.sign(head, frontier)
    head.save(update_fields=["seq", "hash", "frontier", "checkpointed_size", "updated_at"])
    event_appended.send(sender=AuditEvent, action=action, chain=chain)
    return event


def body_of(event: AuditEvent) -> dict[str, Any]:
    """The hashed body of a stored event, rebuilt from its columns (in the event's own format version)."""
    if event.format == FORMAT_V2:
        return event_body_v2(
            chain=str(event.chain_id), seq=event.seq, time=format_time(event.occurred_at),
            actor_type=event.actor_type, actor_id=event.actor_id, actor_label=event.actor_label, action=event.action,
            resource_type=event.resource_type, resource_id=event.resource_id, changes=event.changes,
            request_id=event.request_id, personal=event.personal or {},
        )
    return event_body(
        chain=str(event.chain_id), seq=event.seq, time=format_time(event.occurred_at), actor_type=event.actor_type,
        actor_id=event.actor_id, actor_label=event.actor_label, ip=event.ip, user_agent=event.user_agent,
        action=event.action, resource_type=event.resource_type, resource_id=event.resource_id,
        changes=event.changes, request_id=event.request_id,
    )
