"""The audit log's wire format, shared by the database side and the offline verifier.

Pure Python: no Django, no database. Anything here that changes breaks every chain already
written, so the exact bytes are pinned by tests (tests/audit/test_format.py).

An entry's hash is ``SHA-256(prev_hash || JCS(body))``, where ``JCS`` is the JSON Canonicalization
Scheme of RFC 8785 and ``body`` is exactly the dict built by ``event_body``. The first entry of a
chain has ``prev_hash`` = 32 zero bytes. Hashes are written as lowercase hex.

Each organisation has its own chain, identified by the organisation's id; platform-level events
(no organisation) form the chain ``00000000-0000-0000-0000-000000000000``.
"""

from __future__ import annotations

import datetime
import hashlib
import json.encoder
from typing import Any

from bastion.audit import jcs

FORMAT_V1 = "bastion-audit/1"
# Version 2: people appear only through per-chain pseudonyms; their email, name, IP and user agent
# live outside the chain, each person's committed to by ``personal_digest`` (docs/audit.md).
FORMAT = FORMAT_V2 = "bastion-audit/2"
GENESIS_HASH = bytes(32)
CHECKPOINT_FORMAT = "bastion-audit-checkpoint/1"
EXPORT_FORMAT = "bastion-audit-export/1"
# The versions this code reads. A change of format is a new version added beside these (with its own
# body and canonical bytes, pinned by new vectors in tests/audit/test_format.py), never an edit of
# them: chains and exports written under each version keep verifying.
EVENT_FORMATS = frozenset({FORMAT_V1, FORMAT_V2})
CHECKPOINT_FORMATS = frozenset({CHECKPOINT_FORMAT})


def format_time(moment: datetime.datetime) -> str:
    """UTC, microseconds, ``Z``: ``2026-11-23T07:46:57.112000Z``."""
    if moment.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    utc = moment.astimezone(datetime.UTC)
    if utc.year >= 1000:  # isoformat pads the year to four digits, strftime's %Y does not below 1000
        return utc.isoformat(timespec="microseconds")[:26] + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_body(
    *,
    chain: str,
    seq: int,
    time: str,
    actor_type: str,
    actor_id: str,
    actor_label: str,
    ip: str | None,
    user_agent: str,
    action: str,
    resource_type: str,
    resource_id: str,
    changes: dict[str, Any],
    request_id: str,
) -> dict[str, Any]:
    """The hashed content of one event in version 1 (chains written before pseudonyms)."""
    return {
        "format": FORMAT_V1,
        "chain": chain,
        "seq": seq,
        "time": time,
        "actor": {"type": actor_type, "id": actor_id, "label": actor_label},
        "ip": ip,
        "user_agent": user_agent,
        "action": action,
        "resource": {"type": resource_type, "id": resource_id},
        "changes": changes,
        "request_id": request_id,
    }


def event_body_v2(
    *,
    chain: str,
    seq: int,
    time: str,
    actor_type: str,
    actor_id: str,
    actor_label: str,
    action: str,
    resource_type: str,
    resource_id: str,
    changes: dict[str, Any],
    request_id: str,
    personal: dict[str, str],
) -> dict[str, Any]:
    """The hashed content of one event in version 2.

    A person (the actor, or one named in ``changes``) appears only as a pseudonym of this chain;
    ``personal`` maps each such pseudonym to ``personal_digest`` of the details kept outside the
    chain (email, name, IP, user agent). No IP or user agent is hashed in clear.
    """
    return {
        "format": FORMAT_V2,
        "chain": chain,
        "seq": seq,
        "time": time,
        "actor": {"type": actor_type, "id": actor_id, "label": actor_label},
        "action": action,
        "resource": {"type": resource_type, "id": resource_id},
        "changes": changes,
        "request_id": request_id,
        "personal": personal,
    }


def personal_digest(salt: bytes, details: dict[str, Any]) -> str:
    """``SHA-256(salt || JCS(details))``, hex: binds the details to the event while they exist; once
    they and their random 32-byte salt are erased, the digest says nothing about them."""
    return hashlib.sha256(salt + canonical(details)).hexdigest()


def canonical(document: dict[str, Any]) -> bytes:
    text = _event_text(document)
    if text is not None:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the reference raises its own error for it
    return jcs.dumps(document)


_quote = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring  # type: ignore[attr-defined]
_EVENT_KEYS = {
    FORMAT_V1: frozenset(("format", "chain", "seq", "time", "actor", "ip", "user_agent", "action", "resource",
                          "changes", "request_id")),
    FORMAT_V2: frozenset(("format", "chain", "seq", "time", "actor", "action", "resource", "changes", "request_id",
                          "personal")),
}
_ACTOR_KEYS = frozenset(("type", "id", "label"))
_RESOURCE_KEYS = frozenset(("type", "id"))
_INT_LIMIT = 2**53 - 1


def _event_text(body: Any) -> str | None:
    """The RFC 8785 text of an event body shaped exactly as ``event_body`` or ``event_body_v2`` build
    it (plain ``str`` fields, an ``int`` seq, ``changes`` and ``personal`` inside ``jcs``'s fast
    domain), written from a template with the keys already in canonical order; None for anything
    else, which ``jcs.dumps`` then canonicalises. Verification spends most of its time here: this
    walks only ``changes`` and ``personal``. tests/audit/test_format.py proves it byte-identical to
    the reference."""
    if type(body) is not dict:
        return None
    version = body.get("format")
    keys = _EVENT_KEYS.get(version) if type(version) is str else None
    if keys is None or body.keys() != keys:
        return None
    actor, resource, seq = body["actor"], body["resource"], body["seq"]
    if (type(actor) is not dict or actor.keys() != _ACTOR_KEYS or type(resource) is not dict
            or resource.keys() != _RESOURCE_KEYS or type(seq) is not int or not -_INT_LIMIT <= seq <= _INT_LIMIT):
        return None
    action, chain, time, request_id = body["action"], body["chain"], body["time"], body["request_id"]
    actor_id, actor_label, actor_type = actor["id"], actor["label"], actor["type"]
    resource_id, resource_type = resource["id"], resource["type"]
    for text in (action, chain, time, request_id, actor_id, actor_label, actor_type, resource_id, resource_type):
        if type(text) is not str:
            return None
    changes = jcs.fast_text(body["changes"])
    if changes is None:
        return None
    head = (f'{{"action":{_quote(action)},"actor":{{"id":{_quote(actor_id)},"label":{_quote(actor_label)},'
            f'"type":{_quote(actor_type)}}},"chain":{_quote(chain)},"changes":{changes},"format":"{version}",')
    tail = (f'"request_id":{_quote(request_id)},"resource":{{"id":{_quote(resource_id)},'
            f'"type":{_quote(resource_type)}}},"seq":{seq},"time":{_quote(time)}')
    if version == FORMAT_V2:
        personal = jcs.fast_text(body["personal"])
        return None if personal is None else f'{head}"personal":{personal},{tail}}}'
    ip, user_agent = body["ip"], body["user_agent"]
    if (ip is not None and type(ip) is not str) or type(user_agent) is not str:
        return None
    return f'{head}"ip":{"null" if ip is None else _quote(ip)},{tail},"user_agent":{_quote(user_agent)}}}'


def entry_hash(prev_hash: bytes, body: dict[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical(body)).digest()


def checkpoint_body(*, chain: str, tree_size: int, root_hash: str, time: str, key_id: str) -> dict[str, Any]:
    """What the platform's Ed25519 key signs: ``signature = Ed25519(JCS(checkpoint_body))``."""
    return {
        "format": CHECKPOINT_FORMAT,
        "chain": chain,
        "tree_size": tree_size,
        "root_hash": root_hash,
        "time": time,
        "key_id": key_id,
    }


def key_id(public_key_raw: bytes) -> str:
    """The first 16 bytes of SHA-256 over the raw 32-byte Ed25519 public key, hex."""
    return hashlib.sha256(public_key_raw).hexdigest()[:32]
