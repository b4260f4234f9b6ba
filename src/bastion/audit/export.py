"""Export one chain as JSON Lines, for customers to verify offline with ``bastion-verify``.

Lines: a header with the platform's public keys; every event (its hashed body, prev_hash and
hash); every signed checkpoint; a consistency proof between each pair of consecutive
checkpoints; an end line with the count and head hash. Streams; keeps only the 32-byte leaf
hashes in memory (for the proofs).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit import merkle, pruning, signing
from bastion.audit.checkpoints import enter_chain, record_of
from bastion.audit.format import EXPORT_FORMAT, GENESIS_HASH, format_time
from bastion.audit.models import AuditEvent, Checkpoint, PersonalDetails


def _line(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"


def export_lines(chain_id: str) -> Iterator[str]:
    """The export, line by line. Runs in its own transaction (a consistent snapshot on PostgreSQL
    with REPEATABLE READ is not needed: events are append-only and read up to the head seen first)."""
    with transaction.atomic():
        enter_chain(chain_id)
        checkpoints = list(Checkpoint.objects.filter(chain_id=chain_id).order_by("tree_size"))
        keys = signing.public_keys()
        prefix = pruning.start_of(chain_id)
        start = prefix.tree_size if prefix else 0
        header: dict[str, Any] = {
            "type": "header", "format": EXPORT_FORMAT, "chain": chain_id, "exported_at": format_time(timezone.now()),
            "public_keys": [{"key_id": k, "ed25519": base64.b64encode(raw).decode()} for k, raw in keys.items()],
        }
        if prefix is not None:  # the export says where it starts, and why
            header["pruned"] = {
                "tree_size": start, "head_hash": prefix.head_hash, "frontier": prefix.frontier,
                "pruned_at": format_time(prefix.pruned_at), "cutoff": format_time(prefix.cutoff),
                "note": f"events up to sequence {start} were pruned at the end of their retention; verification "
                        f"starts at the signed checkpoint at tree_size {start}",
            }
        yield _line(header)
        leaves: list[bytes] = []
        last_hash = prefix.head_hash if prefix else GENESIS_HASH.hex()
        details = _details(chain_id)
        pending = next(details, None)
        for event in AuditEvent.objects.filter(chain_id=chain_id).order_by("seq").iterator(chunk_size=2000):
            leaves.append(bytes.fromhex(event.hash))
            last_hash = event.hash
            record = {"type": "event", "body": audit_chain.body_of(event), "prev_hash": event.prev_hash,
                      "hash": event.hash}
            kept = {}
            while pending is not None and pending.seq <= event.seq:
                if pending.seq == event.seq:
                    kept[pending.pseudonym] = {"details": pending.details, "salt": pending.salt}
                pending = next(details, None)
            if kept:  # format 2: who the pseudonyms are, while they are known (not hashed; erasure removes it)
                record["personal"] = kept
            yield _line(record)
        checkpoints = [c for c in checkpoints if start <= c.tree_size <= start + len(leaves)]
        for checkpoint in checkpoints:
            yield _line(record_of(checkpoint))
        # A pruned chain has no leaves to prove from; the verifier recomputes each root from the frontier.
        for older, newer in zip(checkpoints, checkpoints[1:], strict=False) if not start else ():
            proof = merkle.consistency_proof(leaves, older.tree_size, newer.tree_size)
            yield _line({"type": "consistency", "from": older.tree_size, "to": newer.tree_size,
                         "proof": [node.hex() for node in proof]})
        yield _line({"type": "end", "events": start + len(leaves), "head_hash": last_hash})


def _details(chain_id: str) -> Iterator[PersonalDetails]:
    return PersonalDetails.objects.filter(chain_id=chain_id).order_by("seq", "pseudonym").iterator(chunk_size=2000)


def _leaves(chain_id: str, tree_size: int) -> list[bytes] | None:
    """The entry hashes of the first ``tree_size`` events, or None when the chain is shorter."""
    with transaction.atomic():
        enter_chain(chain_id)
        hashes = list(AuditEvent.objects.filter(chain_id=chain_id, seq__lte=tree_size).order_by("seq")
                      .values_list("hash", flat=True))
    return [bytes.fromhex(h) for h in hashes] if len(hashes) >= tree_size else None


def inclusion(chain_id: str, seq: int, tree_size: int) -> dict[str, Any] | None:
    """An inclusion proof of event ``seq`` in the tree of the first ``tree_size`` events."""
    leaves = _leaves(chain_id, tree_size) if 1 <= seq <= tree_size else None
    if leaves is None:
        return None
    return {
        "seq": seq, "tree_size": tree_size, "leaf": leaves[seq - 1].hex(),
        "root_hash": merkle.root(leaves).hex(),
        "proof": [node.hex() for node in merkle.inclusion_proof(leaves, seq - 1, tree_size)],
    }


def consistency(chain_id: str, size1: int, size2: int) -> dict[str, Any] | None:
    """An RFC 9162 consistency proof between the trees of the first ``size1`` and ``size2`` events,
    with both roots; None when the chain has fewer than ``size2`` events."""
    leaves = _leaves(chain_id, size2) if 0 <= size1 <= size2 else None
    if leaves is None:
        return None
    return {
        "from": size1, "to": size2,
        "from_root_hash": merkle.root(leaves[:size1]).hex(), "to_root_hash": merkle.root(leaves).hex(),
        "proof": [node.hex() for node in merkle.consistency_proof(leaves, size1, size2)],
    }
