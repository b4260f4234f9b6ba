"""``bastion-verify``: check an audit log export without Bastion, its database or its operators.

Uses only the standard library, ``rfc8785`` and ``cryptography``, so an auditor can run it on their
own machine. The export is JSON Lines, read as a stream: a header, the events in sequence order,
the signed checkpoints in increasing tree_size, consistency proofs between consecutive checkpoints,
and an end line. Only the 32-byte entry hashes are kept, to recompute the checkpoints' Merkle roots.

The first broken event is reported precisely (its sequence number and the check it failed) and
ends the event checks, since everything after it follows from it; checkpoint signatures and
consistency proofs, which do not depend on the events, are still checked.

Exit status: 0 intact, 1 not intact, 2 unreadable or malformed input.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import io
import itertools
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from bastion.audit import format, merkle

EXPORT_FORMAT = format.EXPORT_FORMAT
# Records must appear in this order; a record of an earlier kind after a later one is malformed.
_STAGES = {"header": 0, "event": 1, "checkpoint": 2, "consistency": 3, "end": 4}


class MalformedExport(ValueError):
    """The input is not a readable export; its message is one line naming the line number."""


@dataclass
class Result:
    ok: bool
    problems: list[str]
    events: int
    checkpoints: int
    first_bad_seq: int | None
    chain: str | None = None
    covered: int = 0  # events covered by the last signed checkpoint
    extends: int | None = None  # the tree_size of the trusted checkpoint this log was proved to extend
    starts_after: int = 0  # events up to this tree_size were pruned; verification starts at its checkpoint


@dataclass
class _Problem:
    message: str
    seq: int | None = None


@dataclass
class _Verifier:
    pinned_key: bytes | None
    chain: str | None = None
    trusted: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    stage: int = -1
    events: int = 0
    head: bytes = format.GENESIS_HASH
    leaves: bytearray = field(default_factory=bytearray)  # entry hashes, 32 bytes each
    chain_broken: bool = False
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier)
    checkpoints: int = 0
    matched: int = 0  # the largest tree_size of a signed checkpoint whose root matches the events
    checkpoint_roots: dict[int, bytes] = field(default_factory=dict)
    checkpoint_sizes: list[int] = field(default_factory=list)
    proved: set[tuple[int, int]] = field(default_factory=set)
    ended: bool = False
    problems: list[_Problem] = field(default_factory=list)
    trusted_checkpoint: dict[str, Any] | None = None  # a checkpoint record the customer saved earlier
    extends: int | None = None  # the trusted checkpoint's tree_size, once the log is proved to extend it
    base: int = 0  # a pruned export: its events start after this tree_size
    base_frontier: Any = None  # the Merkle frontier of the pruned events (JSON), as the header gives it

    def problem(self, message: str, seq: int | None = None) -> None:
        self.problems.append(_Problem(message, seq))

    def feed(self, number: int, record: dict[str, Any]) -> None:
        kind = record.get("type")
        if kind not in _STAGES:
            raise MalformedExport(f"line {number}: unknown record type {kind!r}")
        if self.stage < 0 and kind != "header":
            raise MalformedExport(f"line {number}: the export does not start with a header")
        if _STAGES[kind] < self.stage or (kind == "header" and self.stage >= 0) or self.ended:
            raise MalformedExport(f"line {number}: {kind} record out of place")
        self.stage = _STAGES[kind]
        getattr(self, f"_{kind}")(number, record)

    def _header(self, number: int, record: dict[str, Any]) -> None:
        if record.get("format") != EXPORT_FORMAT:
            raise MalformedExport(
                f"line {number}: unknown export format {record.get('format')!r} (this verifier reads {EXPORT_FORMAT})"
            )
        self.chain, keys = record.get("chain"), record.get("public_keys")
        if not isinstance(self.chain, str) or not isinstance(keys, list):
            raise MalformedExport(f"line {number}: the header needs chain (string) and public_keys (list)")
        for entry in keys:
            raw = _base64(entry.get("ed25519")) if isinstance(entry, dict) else None
            if raw is None or len(raw) != 32 or not isinstance(entry.get("key_id"), str):
                raise MalformedExport(f"line {number}: each public key needs key_id and 32 bytes of base64 ed25519")
            if entry["key_id"] != format.key_id(raw):
                self.problem(f"header: key_id {_show(entry['key_id'])} does not match its public key")
            elif self.pinned_key is None:
                self.trusted[entry["key_id"]] = Ed25519PublicKey.from_public_bytes(raw)
        if self.pinned_key is not None:
            self.trusted = {format.key_id(self.pinned_key): Ed25519PublicKey.from_public_bytes(self.pinned_key)}
        if record.get("pruned") is not None:
            self._pruned(number, record["pruned"])

    def _pruned(self, number: int, pruned: Any) -> None:
        """Events up to ``tree_size`` were pruned at the signed checkpoint of that size: start from the
        frontier and head hash recorded there (the frontier must hash to that checkpoint's signed root)."""
        size = pruned.get("tree_size") if isinstance(pruned, dict) else None
        head = _hex32(pruned.get("head_hash")) if isinstance(pruned, dict) else None
        try:
            frontier = merkle.Frontier.from_json(pruned.get("frontier")) if isinstance(pruned, dict) else None
        except ValueError:
            frontier = None
        if type(size) is not int or size < 1 or head is None or frontier is None or frontier.size != size:
            raise MalformedExport(f"line {number}: pruned needs tree_size, head_hash and the frontier of that many events")
        self.base = self.events = size
        self.head, self.base_frontier = head, pruned["frontier"]
        self.frontier = merkle.Frontier.from_json(self.base_frontier)

    def _event(self, number: int, record: dict[str, Any]) -> None:
        body, prev_hash, recorded_hash = record.get("body"), record.get("prev_hash"), record.get("hash")
        if not (isinstance(body, dict) and isinstance(prev_hash, str) and isinstance(recorded_hash, str)):
            raise MalformedExport(f"line {number}: an event needs body (object), prev_hash and hash (strings)")
        self.events += 1
        if self.chain_broken:
            return
        seq = self.events
        message = self._event_problem(seq, body, prev_hash, recorded_hash, record.get("personal"))
        if message:
            self.problem(f"sequence {seq}: {message}", seq)
            self.chain_broken = True

    def _event_problem(self, seq: int, body: dict[str, Any], prev_hash: str, recorded_hash: str,
                       record_details: Any = None) -> str | None:
        found = body.get("seq")
        if type(found) is not int:
            return f"expected {seq}, found {found!r} (not a sequence number)"
        if found > seq:
            return f"expected {seq}, found {found} (events missing)"
        if found < seq:
            return f"expected {seq}, found {found} (event duplicated or out of order)"
        if body.get("chain") != self.chain:
            return f"belongs to chain {body.get('chain')!r}, not {_show(self.chain)} (event moved between chains)"
        if body.get("format") not in format.EVENT_FORMATS:
            return f"unknown event format {body.get('format')!r}"
        if prev_hash != self.head.hex():
            if seq == 1:
                return "prev_hash is not the genesis hash (chain does not start here)"
            return f"prev_hash does not match the hash of sequence {seq - 1} (chain broken)"
        try:
            computed = format.entry_hash(self.head, body)
        except ValueError as error:  # rfc8785 refuses e.g. integers beyond 2**53
            return f"content cannot be canonicalized ({error})"
        if recorded_hash != computed.hex():
            return "content does not match its hash (event altered)"
        if problem := _details_problem(body, record_details):
            return problem
        self.head = computed
        self.leaves += computed
        return None

    def _checkpoint(self, number: int, record: dict[str, Any]) -> None:
        body, signature = record.get("body"), record.get("signature")
        if not (isinstance(body, dict) and isinstance(signature, str)):
            raise MalformedExport(f"line {number}: a checkpoint needs body (object) and signature (string)")
        self.checkpoints += 1
        size = body.get("tree_size")
        label = f"checkpoint at tree_size {size}" if type(size) is int else f"checkpoint {self.checkpoints}"
        if body.get("format") not in format.CHECKPOINT_FORMATS:
            self.problem(f"{label}: unknown checkpoint format {body.get('format')!r}")
        if body.get("chain") != self.chain:
            self.problem(f"{label}: signed for chain {body.get('chain')!r}, not {_show(self.chain)}")
        key_id = body.get("key_id")
        key = self.trusted.get(key_id) if isinstance(key_id, str) else None
        signed = key is not None and _signature_valid(key, signature, body)
        if key is None:
            trusted_by = "the pinned key" if self.pinned_key is not None else "a key listed in the header"
            self.problem(f"{label}: signed by key {body.get('key_id')!r}, not by {trusted_by}")
        elif not signed:
            self.problem(f"{label}: signature does not verify (checkpoint altered or forged)")
        root_hash = _hex32(body.get("root_hash"))
        if type(size) is not int or size < 0 or root_hash is None:
            self.problem(f"{label}: tree_size or root_hash is malformed")
            return
        if self.checkpoint_sizes and size <= self.checkpoint_sizes[-1]:
            self.problem(f"{label}: does not follow the previous checkpoint (tree_size {self.checkpoint_sizes[-1]})")
        self.checkpoint_sizes.append(size)
        self.checkpoint_roots[size] = root_hash
        if not self.chain_broken:
            self._check_root(label, size, root_hash, signed)

    def _check_root(self, label: str, size: int, root_hash: bytes, signed: bool) -> None:
        if size > self.events:
            self.problem(f"{label}: covers {size} events but the export holds {self.events} (events missing)")
            return
        if size < self.base:
            self.problem(f"{label}: below the pruned start at tree_size {self.base}")
            return
        if size < self.frontier.size:
            self.frontier = merkle.Frontier.from_json(self.base_frontier) if self.base else merkle.Frontier()
        for index in range(self.frontier.size, size):
            offset = index - self.base
            self.frontier.append(bytes(self.leaves[32 * offset : 32 * offset + 32]))
        if self.frontier.root() != root_hash:
            # Events up to the largest signed, matching checkpoint are as signed; the rewrite is after it.
            self.problem(f"{label}: root_hash does not match the events (events rewritten after sequence "
                         f"{self.matched}, up to {size})")
        elif signed:
            self.matched = max(self.matched, size)

    def _consistency(self, number: int, record: dict[str, Any]) -> None:
        size1, size2, proof = record.get("from"), record.get("to"), record.get("proof")
        if type(size1) is not int or type(size2) is not int or not isinstance(proof, list):
            raise MalformedExport(f"line {number}: a consistency proof needs from, to (integers) and proof (list)")
        label = f"consistency proof from tree_size {size1} to {size2}"
        self.proved.add((size1, size2))
        nodes = [_hex32(node) for node in proof]
        hashes = [node for node in nodes if node is not None]
        root1, root2 = self.checkpoint_roots.get(size1), self.checkpoint_roots.get(size2)
        if root1 is None or root2 is None:
            self.problem(f"{label}: no checkpoint at tree_size {size1 if root1 is None else size2}")
        elif len(hashes) != len(nodes) or not merkle.verify_consistency(size1, size2, root1, root2, hashes):
            self.problem(f"{label}: does not verify (the log was not append-only, or the proof was altered)")

    def _end(self, number: int, record: dict[str, Any]) -> None:
        declared, head_hash = record.get("events"), record.get("head_hash")
        if type(declared) is not int or not isinstance(head_hash, str | None):
            raise MalformedExport(f"line {number}: the end line needs events (integer) and head_hash (string)")
        self.ended = True
        if self.chain_broken:
            return
        if declared > self.events:
            missing = self.events + 1
            self.problem(f"sequence {missing}: missing (the end line records {declared} events, "
                         f"the export holds {self.events})", missing)
        elif declared < self.events:
            self.problem(f"sequence {declared + 1}: after the end line's count of {declared} events (event added)",
                         declared + 1)
        elif head_hash != self.head.hex() and not (self.events == 0 and head_hash is None):
            self.problem(f"end line: head_hash does not match the hash of sequence {self.events}", self.events or None)

    def finish(self) -> Result:
        if self.stage < 0:
            raise MalformedExport("the export is empty")
        sizes = self.checkpoint_sizes
        if self.base and self.base not in sizes:
            self.problem(f"the export starts after tree_size {self.base} (pruned) but holds no signed checkpoint there")
        # A pruned export carries no proofs: each root is recomputed from the same frontier and events.
        for size1, size2 in itertools.pairwise(sizes) if not self.base else ():
            if (size1, size2) not in self.proved:
                self.problem(f"no consistency proof from tree_size {size1} to {size2}")
        if not self.ended:
            self.problem("the export has no end line (file truncated?)")
        if self.trusted_checkpoint is not None:
            self._check_trusted(self.trusted_checkpoint)
        problems = sorted(self.problems, key=lambda p: (p.seq is None, p.seq or 0))
        seqs = [p.seq for p in problems if p.seq is not None]
        return Result(
            ok=not problems,
            problems=[p.message for p in problems],
            events=self.events,
            checkpoints=self.checkpoints,
            first_bad_seq=seqs[0] if seqs else None,
            chain=self.chain,
            covered=sizes[-1] if sizes else 0,
            extends=self.extends,
            starts_after=self.base,
        )

    def _check_trusted(self, record: dict[str, Any]) -> None:
        """Prove, with an RFC 9162 consistency proof, that this log extends the checkpoint saved earlier."""
        body, signature = record["body"], record["signature"]
        size1, root1 = body["tree_size"], bytes.fromhex(body["root_hash"])
        label = f"trusted checkpoint at tree_size {size1}"
        if body.get("chain") != self.chain:
            self.problem(f"{label}: it is for chain {_show(body.get('chain'))}, not {_show(self.chain)}")
            return
        key = self.trusted.get(body.get("key_id"))
        if key is None or not _signature_valid(key, signature, body):
            self.problem(f"{label}: its signature does not verify with a trusted key (not a checkpoint of this platform)")
            return
        if size1 > self.events:
            self.problem(f"{label}: the export holds only {self.events} events (events removed: the log has forked "
                         "from the one you saved)", self.events + 1)
            return
        if self.base:
            self._check_trusted_pruned(label, size1, root1)
            return
        available = len(self.leaves) // 32
        if size1 > available:
            self.problem(f"{label}: cannot be proved, the chain is broken before sequence {size1}")
            return
        # The newest signed checkpoint that matches the events, else the export's own head.
        size2 = self.matched if self.matched >= size1 else available
        leaves = [bytes(self.leaves[32 * i : 32 * i + 32]) for i in range(size2)]
        root2 = merkle.root(leaves)
        proof = merkle.consistency_proof(leaves, size1, size2)
        if not merkle.verify_consistency(size1, size2, root1, root2, proof):
            self.problem(f"{label}: the log has forked: its first {size1} events are not the ones you saved the "
                         f"checkpoint of (consistency proof to tree_size {size2} fails: events up to sequence "
                         f"{size1} were rewritten)")
            return
        self.extends = size1


    def _check_trusted_pruned(self, label: str, size1: int, root1: bytes) -> None:
        if size1 < self.base:
            self.problem(f"{label}: the events up to tree_size {self.base} were pruned at the end of their retention; "
                         "your checkpoint is older than the log's start")
            return
        available = self.base + len(self.leaves) // 32
        if size1 > available:
            self.problem(f"{label}: cannot be proved, the chain is broken before sequence {size1}")
            return
        tree = merkle.Frontier.from_json(self.base_frontier)
        for offset in range(size1 - self.base):
            tree.append(bytes(self.leaves[32 * offset : 32 * offset + 32]))
        if tree.root() != root1:
            self.problem(f"{label}: the log has forked: its first {size1} events are not the ones you saved the "
                         "checkpoint of")
            return
        self.extends = size1


def _details_problem(body: dict[str, Any], kept: Any) -> str | None:
    """Format 2: the personal details the export carries beside an event (``{pseudonym: {"details",
    "salt"}}``, absent once erased) must match the digests the event hashed."""
    if kept is None:
        return None
    digests = body.get("personal")
    if not isinstance(kept, dict) or not isinstance(digests, dict):
        return "personal details given for an event that has none"
    for pseudonym, entry in kept.items():
        salt = bytes.fromhex(entry["salt"]) if isinstance(entry, dict) and _is_hex(entry.get("salt")) else None
        details = entry.get("details") if isinstance(entry, dict) else None
        if salt is None or not isinstance(details, dict) or digests.get(pseudonym) != format.personal_digest(salt, details):
            return f"the personal details of {_show(pseudonym)} do not match the event's digest (details altered)"
    return None


def _is_hex(text: Any) -> bool:
    return isinstance(text, str) and re.fullmatch("(?:[0-9a-f]{2})+", text) is not None


def _base64(text: Any) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True) if isinstance(text, str) else None
    except binascii.Error:
        return None


def _hex32(text: Any) -> bytes | None:
    return bytes.fromhex(text) if isinstance(text, str) and re.fullmatch("[0-9a-f]{64}", text) else None


def _signature_valid(key: Ed25519PublicKey, signature: str, body: dict[str, Any]) -> bool:
    raw = _base64(signature)
    try:
        key.verify(raw or b"", format.canonical(body))
    except (InvalidSignature, ValueError):
        return False
    return True


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("duplicate key in object")
    return document


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _parse(number: int, line: str) -> dict[str, Any]:
    try:
        record = json.loads(line, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else str(error) or "nested too deeply"
        raise MalformedExport(f"line {number}: not valid JSON ({reason})")
    if not isinstance(record, dict):
        raise MalformedExport(f"line {number}: not a JSON object")
    return record


def load_trusted_checkpoint(text: str) -> dict[str, Any]:
    """A checkpoint the customer saved (as the export, the anchor store or the API give it:
    ``{"body": …, "signature": …}``); ``MalformedExport`` with a one-line reason when it is not one."""
    try:
        record = json.loads(text, object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise MalformedExport(f"not valid JSON ({error})")
    body = record.get("body") if isinstance(record, dict) else None
    if not isinstance(body, dict) or not isinstance(record.get("signature"), str):
        raise MalformedExport("a checkpoint needs body (object) and signature (string)")
    if type(body.get("tree_size")) is not int or body["tree_size"] < 0 or _hex32(body.get("root_hash")) is None:
        raise MalformedExport("the checkpoint's tree_size or root_hash is malformed")
    if body.get("format") not in format.CHECKPOINT_FORMATS:
        raise MalformedExport(f"unknown checkpoint format {body.get('format')!r}")
    return {"body": body, "signature": record["signature"]}


def verify_lines(lines: Iterable[str], public_key: bytes | None = None,
                 trusted_checkpoint: dict[str, Any] | None = None) -> Result:
    """Verify an export given as lines; ``public_key`` (raw 32 bytes) becomes the only trusted key;
    ``trusted_checkpoint`` (from ``load_trusted_checkpoint``) must be extended by the log.

    Raises ``MalformedExport`` when the input is not a readable export.
    """
    verifier = _Verifier(pinned_key=public_key, trusted_checkpoint=trusted_checkpoint)
    for number, line in enumerate(lines, 1):
        if line.strip():
            verifier.feed(number, _parse(number, line))
    return verifier.finish()


def _run(path: str, public_key: bytes | None, trusted_checkpoint: dict[str, Any] | None = None) -> Result:
    if path == "-":
        stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
        try:
            return verify_lines(stdin, public_key, trusted_checkpoint)
        finally:
            stdin.detach()
    with open(path, encoding="utf-8") as export:
        return verify_lines(export, public_key, trusted_checkpoint)


def _show(text: str | None) -> str:
    """Text from the export as one harmless line."""
    return text if isinstance(text, str) and text.isprintable() else repr(text)


class _UsageError(Exception):
    """A command-line option that cannot be used: one line, exit status 2."""


def _public_key_option(value: str | None) -> bytes | None:
    if value is None:
        return None
    public_key = _base64(value)
    if public_key is None or len(public_key) != 32:
        raise _UsageError("--public-key must be 32 bytes in standard base64")
    return public_key


def _trusted_checkpoint_option(path: str | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as saved:
            return load_trusted_checkpoint(saved.read())
    except (OSError, UnicodeDecodeError) as error:
        raise _UsageError(f"cannot read {path}: {error}") from None
    except MalformedExport as error:
        raise _UsageError(f"--trusted-checkpoint {path}: {error}") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bastion-verify", description="Verify a Bastion audit log export offline.")
    parser.add_argument("export", help="the export file (JSON Lines), or - to read standard input")
    parser.add_argument(
        "--public-key", metavar="BASE64", help="the platform's Ed25519 public key (raw 32 bytes, base64); "
        "when given it is the only key trusted, whatever the export's header lists"
    )
    parser.add_argument(
        "--trusted-checkpoint", metavar="FILE", help="a checkpoint you saved earlier (JSON: body and signature, as "
        "the export, the API or your witness received it); the log must provably extend it (RFC 9162 consistency)"
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing when the export is intact")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        public_key = _public_key_option(args.public_key)
        trusted_checkpoint = _trusted_checkpoint_option(args.trusted_checkpoint)
    except _UsageError as error:
        print(f"bastion-verify: {error}", file=sys.stderr)
        return 2
    try:
        result = _run(args.export, public_key, trusted_checkpoint)
    except MalformedExport as error:
        print(f"bastion-verify: malformed export: {error}", file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError) as error:
        print(f"bastion-verify: cannot read {args.export}: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # an auditor gets one line, never a traceback
        print(f"bastion-verify: could not verify {args.export}: {error!r}", file=sys.stderr)
        return 2
    return _report(result, quiet=args.quiet)


def _report(result: Result, *, quiet: bool) -> int:
    if not result.ok:
        print(f"FAILED: chain {_show(result.chain)}: {len(result.problems)} problem(s)")
        for message in result.problems:
            print(f"  {message}")
        return 1
    if not quiet:
        summary = f"OK: chain {_show(result.chain)}, {result.events} events, {result.checkpoints} checkpoints verified"
        if result.covered < result.events:
            summary += f" (events after sequence {result.covered} are not yet covered by a signed checkpoint)"
        if result.extends is not None:
            summary += f"; it extends your trusted checkpoint at tree_size {result.extends}"
        if result.starts_after:
            summary += (f"; events up to sequence {result.starts_after} were pruned at the end of their retention, "
                        f"verification starts at the signed checkpoint at tree_size {result.starts_after}")
        print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
