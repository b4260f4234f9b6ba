"""Append events to a chain: the one helper every change calls, inside the change's transaction.

Appends to one chain serialise on its ``ChainHead`` row, locked by the statement that moves it
(``bastion.audit.linking``), as late in the append as possible; chains of different organisations
never wait for each other. On SQLite, writers are serialised by the database itself (IMMEDIATE
transactions).
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bastion.audit import checkpoints, linking, personal, registry
from bastion.audit.checkpoints import enter_chain
from bastion.audit.context import Actor, current_actor, request_metadata
from bastion.audit.format import FORMAT_V2, event_body, event_body_v2, format_time
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
    """Everything that does not depend on the chain's head first (pseudonyms, digests, the canonical
    body); then the head's lock, as late as the transaction allows, and only the linking under it:
    one statement on PostgreSQL, where the database computes the hash (``linking``)."""
    ip, user_agent, request_id = request_metadata()
    # A pseudonym is made under the head's lock (so a transaction never waits on another's new
    # pseudonym while holding the head): rare, the first event of a person in a chain.
    actor_id, actor_label, safe_changes, people = personal.split(
        chain, actor, ip, user_agent, json_safe(changes or {}), resource_type, str(resource_id),
        before_creating=lambda: _locked_head(chain))
    digests, details = personal.salted(chain, people)
    moment = timezone.now()
    body = event_body_v2(
        chain=chain, seq=0, time=format_time(moment), actor_type=actor.type, actor_id=actor_id,
        actor_label=actor_label, action=action, resource_type=resource_type, resource_id=str(resource_id),
        changes=safe_changes, request_id=request_id, personal=digests,
    )
    event = AuditEvent(
        chain_id=chain, seq=0, occurred_at=moment, actor_type=actor.type, actor_id=actor_id, actor_label=actor_label,
        ip=None, user_agent="", action=action, resource_type=resource_type, resource_id=body["resource"]["id"],
        changes=body["changes"], request_id=request_id, prev_hash="", hash="", format=FORMAT_V2,
        personal=body["personal"],
    )
    checkpointed = linking.append(event, *linking.around_seq(body))
    personal.save(event.seq, details)
    if event.seq - checkpointed >= settings.BASTION_AUDIT_CHECKPOINT_EVERY:
        head = ChainHead.objects.select_for_update().get(chain_id=chain)  # held already: this transaction moved it
        frontier = checkpoints.head_frontier(head)
        checkpoints.sign(head, frontier)
        head.frontier = frontier.to_json()
        head.save(update_fields=["frontier", "checkpointed_size", "updated_at"])
    event_appended.send(sender=AuditEvent, action=action, chain=chain)
    return event


# The columns an event's hashed body is rebuilt from, in the order ``body_of_columns`` takes them.
BODY_COLUMNS = ("seq", "format", "occurred_at", "actor_type", "actor_id", "actor_label", "ip", "user_agent", "action",
                "resource_type", "resource_id", "changes", "request_id", "personal")


def body_of(event: AuditEvent) -> dict[str, Any]:
    """The hashed body of a stored event, rebuilt from its columns (in the event's own format version)."""
    return body_of_columns(str(event.chain_id), *(getattr(event, column) for column in BODY_COLUMNS))


def body_of_columns(chain: str, seq: int, version: str | None, occurred_at: datetime.datetime, actor_type: str,
                    actor_id: str, actor_label: str, ip: str | None, user_agent: str, action: str, resource_type: str,
                    resource_id: str, changes: Any, request_id: str, personal: Any) -> dict[str, Any]:
    """The hashed body from the values of ``BODY_COLUMNS`` (a row streamed by verification, or a model's)."""
    if version == FORMAT_V2:
        return event_body_v2(
            chain=chain, seq=seq, time=format_time(occurred_at), actor_type=actor_type, actor_id=actor_id,
            actor_label=actor_label, action=action, resource_type=resource_type, resource_id=resource_id,
            changes=changes, request_id=request_id, personal=personal or {},
        )
    return event_body(
        chain=chain, seq=seq, time=format_time(occurred_at), actor_type=actor_type, actor_id=actor_id,
        actor_label=actor_label, ip=ip, user_agent=user_agent, action=action, resource_type=resource_type,
        resource_id=resource_id, changes=changes, request_id=request_id,
    )
