"""The erasure ledger: every erasure of a person and every organisation deletion, recorded outside
the database, beside the audit anchors (``BASTION_AUDIT_ANCHOR_URL``), so that a restore of an
older backup cannot bring them back: ``replay`` carries them out again on the restored copy before
it serves (``bastion backup restore``, the drills, and ``bastion serve``/``worker`` at start).

An entry holds no personal data: a sequence number, an id, the kind, the subject's id (the user's
number or the organisation's UUID), the time, the hash of the entry before it, and the platform's
Ed25519 signature (the audit signing key) over the canonical body. Reading verifies the hash chain
and every signature; a database that has applied an entry the ledger no longer holds, or holds
differently, is told the ledger was truncated or altered.

- a directory: ``<dir>/erasure-ledger.jsonl`` (0600, in the 0700 witness directory), appended under
  an exclusive lock and fsync'd;
- ``s3://…``: one object per entry (``prefix/erasure-ledger/<seq>.json``) under Object Lock in
  compliance mode; a key written twice keeps its first version (the record); a writer that finds
  its own version is not the first takes the next number.

The crash window is closed by writing ahead: the entry is appended (durably) *before* the erasure
starts, and the database records the entry as applied in the erasure's last transaction
(``LedgerApplied``). A crash in between leaves an entry the database has not applied, which the
next start (or restore) replays; replaying is idempotent.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import DatabaseError, transaction
from django.utils import timezone

from bastion.audit import anchoring, signing
from bastion.audit.format import canonical, format_time

FORMAT = "bastion-erasure-ledger/1"
PERSON_ERASED = "person-erased"
ORGANISATION_DELETED = "organisation-deleted"
KINDS = (PERSON_ERASED, ORGANISATION_DELETED)
GENESIS = "0" * 64
FILE_NAME = "erasure-ledger.jsonl"
S3_FOLDER = "erasure-ledger"


class LedgerError(Exception):
    """The ledger could not be written or read, or does not verify; one line, without secrets."""


@dataclasses.dataclass(frozen=True)
class Entry:
    seq: int
    kind: str
    subject: str
    time: str
    hash: str
    record: dict[str, Any]


def _hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body)).hexdigest()


def _record(previous: Entry | None, kind: str, subject: str, now: datetime.datetime) -> dict[str, Any]:
    body = {"format": FORMAT, "seq": previous.seq + 1 if previous else 1, "id": str(uuid.uuid4()), "kind": kind,
            "subject": subject, "time": format_time(now), "prev": previous.hash if previous else GENESIS,
            "key_id": signing.current_key_id()}
    return {"body": body, "hash": _hash(body), "signature": signing.sign(canonical(body))}


def verify(records: list[dict[str, Any]], where: str) -> list[Entry]:
    """The entries of ``records`` (in order), or ``LedgerError`` naming the first that does not verify."""
    keys = signing.public_keys()
    entries: list[Entry] = []
    for position, record in enumerate(records, 1):
        body = record.get("body") if isinstance(record, dict) else None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise LedgerError(f"{where}: entry {position} is not an erasure ledger entry")
        previous = entries[-1].hash if entries else GENESIS
        if body.get("seq") != position or body.get("prev") != previous:
            raise LedgerError(f"{where}: entry {position} does not follow entry {position - 1} "
                              "(the ledger was truncated, reordered or altered)")
        if record.get("hash") != _hash(body) or body.get("kind") not in KINDS:
            raise LedgerError(f"{where}: entry {position} was altered (its hash does not match)")
        key = keys.get(str(body.get("key_id")))
        try:
            if key is None:
                raise InvalidSignature
            Ed25519PublicKey.from_public_bytes(key).verify(base64.b64decode(record.get("signature", "")),
                                                           canonical(body))
        except (InvalidSignature, ValueError) as exc:
            raise LedgerError(f"{where}: entry {position} is not signed by a platform key") from exc
        entries.append(Entry(body["seq"], body["kind"], str(body["subject"]), body["time"], record["hash"], record))
    return entries


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, separators=(",", ":"), sort_keys=True) + "\n").encode()


class LocalLedger:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self.description = f"erasure ledger {self.path}"

    def _lines(self, descriptor: int) -> list[dict[str, Any]]:
        os.lseek(descriptor, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(descriptor, 1 << 16):
            chunks.append(chunk)
        records = []
        for line in b"".join(chunks).decode("utf-8", "replace").splitlines():
            if line.strip():
                try:
                    records.append(json.loads(line))
                except ValueError:
                    records.append({})  # verify() names it
        return records

    def append(self, kind: str, subject: str, now: datetime.datetime) -> Entry:
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            created = not self.path.exists()
            descriptor = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)  # held until close: the next number is ours
                entries = verify(self._lines(descriptor), self.description)
                record = _record(entries[-1] if entries else None, kind, subject, now)
                os.write(descriptor, _line(record))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if created:  # the new file's directory entry must survive a crash too
                directory = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
        except OSError as exc:
            raise LedgerError(f"cannot append to {self.path}: {exc.strerror}") from exc
        return verify([*(e.record for e in entries), record], self.description)[-1]

    def read(self) -> list[Entry]:
        try:
            descriptor = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise LedgerError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH)
            return verify(self._lines(descriptor), self.description)
        finally:
            os.close(descriptor)


class S3Ledger:
    """One object per entry under Object Lock (compliance), in the anchors' bucket."""

    ATTEMPTS = 5

    def __init__(self, store: anchoring.S3ObjectLock) -> None:
        self.store = store
        self.folder = f"{store.prefix}/{S3_FOLDER}/" if store.prefix else f"{S3_FOLDER}/"
        self.description = f"erasure ledger s3://{store.bucket}/{self.folder}"

    def _first_versions(self) -> list[dict[str, Any]]:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self.store.client
        versions: dict[str, list[Any]] = {}
        try:
            for page in client.get_paginator("list_object_versions").paginate(Bucket=self.store.bucket,
                                                                              Prefix=self.folder):
                for version in page.get("Versions", []):
                    versions.setdefault(version["Key"], []).append(version)
            records = []
            for key in sorted(versions):
                # The first version is the record (as for the anchors): S3 lists newest first.
                first = sorted(reversed(versions[key]), key=lambda v: v["LastModified"])[0]
                body = client.get_object(Bucket=self.store.bucket, Key=key, VersionId=first["VersionId"])["Body"]
                try:
                    records.append(json.loads(body.read()))
                except ValueError:
                    records.append({})
        except (BotoCoreError, ClientError) as exc:
            raise LedgerError(f"cannot read {self.description}: {anchoring._reason(exc)}") from exc
        return records

    def append(self, kind: str, subject: str, now: datetime.datetime) -> Entry:
        from botocore.exceptions import BotoCoreError, ClientError

        for _ in range(self.ATTEMPTS):
            entries = verify(self._first_versions(), self.description)
            record = _record(entries[-1] if entries else None, kind, subject, now)
            key = f"{self.folder}{record['body']['seq']:020d}.json"
            until = self.store.clock() + datetime.timedelta(days=self.store.retention_days)
            try:
                self.store.client.put_object(Bucket=self.store.bucket, Key=key, Body=_line(record),
                                             ContentType="application/json", ChecksumAlgorithm="SHA256",
                                             ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
            except (BotoCoreError, ClientError) as exc:
                raise LedgerError(f"cannot write {key} to {self.description}: {anchoring._reason(exc)}") from exc
            entries = verify(self._first_versions(), self.description)
            if len(entries) >= record["body"]["seq"] and entries[record["body"]["seq"] - 1].hash == record["hash"]:
                return entries[record["body"]["seq"] - 1]
            # Another writer took this number first: ours is a later version, ignored; take the next one.
        raise LedgerError(f"{self.description}: could not append after {self.ATTEMPTS} attempts (concurrent writers)")

    def read(self) -> list[Entry]:
        return verify(self._first_versions(), self.description)


def store() -> LocalLedger | S3Ledger:
    anchors = anchoring.store()
    if isinstance(anchors, anchoring.S3ObjectLock):
        return S3Ledger(anchors)
    assert isinstance(anchors, anchoring.LocalWitness)
    return LocalLedger(anchors.directory)


def append(kind: str, subject: object, now: datetime.datetime | None = None) -> Entry:
    """Record an erasure or deletion about to be carried out (before it starts: see the module's doc)."""
    return store().append(kind, str(subject), now or timezone.now())


def read() -> list[Entry]:
    return store().read()


def mark_applied(entry: Entry) -> None:
    from bastion.privacy.models import LedgerApplied

    LedgerApplied.objects.get_or_create(seq=entry.seq, defaults={"entry_hash": entry.hash})


# --- replay ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class ReplayResult:
    entries: int = 0
    replayed: list[str] = dataclasses.field(default_factory=list)  # "person-erased 42 (entry 7)"
    failed: list[str] = dataclasses.field(default_factory=list)
    error: str = ""  # the ledger could not be read, or does not match what the database applied

    @property
    def ok(self) -> bool:
        return not self.error and not self.failed

    def summary(self) -> str:
        if self.error:
            return self.error
        text = f"{self.entries} ledger entr{'y' if self.entries == 1 else 'ies'}, {len(self.replayed)} replayed"
        return text + (f"; FAILED: {'; '.join(self.failed)}" if self.failed else "")


def pending(entries: list[Entry]) -> list[Entry]:
    """The entries this database has not applied; ``LedgerError`` when it has applied more, or other ones."""
    from bastion.privacy.models import LedgerApplied

    applied = dict(LedgerApplied.objects.values_list("seq", "entry_hash"))
    for seq, entry_hash in sorted(applied.items()):
        if seq > len(entries):
            raise LedgerError(f"the database has applied erasure ledger entry {seq} but the ledger holds "
                              f"{len(entries)}: the ledger was truncated or replaced")
        if entries[seq - 1].hash != entry_hash:
            raise LedgerError(f"erasure ledger entry {seq} differs from the one this database applied: "
                              "the ledger was altered or replaced")
    return [entry for entry in entries if entry.seq not in applied]


def _apply(entry: Entry) -> None:
    from bastion.privacy import erasure
    from bastion.tenancy import actions, context
    from bastion.tenancy.models import Organisation

    if entry.kind == PERSON_ERASED:
        erasure.erase_person(int(entry.subject), replaying=entry)
    else:
        with context.platform_scope():
            organisation = Organisation.objects.filter(id=entry.subject).first()
        if organisation is not None:
            with context.tenant_context(organisation.id), transaction.atomic():
                actions.delete_organisation(organisation)
                mark_applied(entry)
    with transaction.atomic():
        mark_applied(entry)  # nothing to do (already gone, or never there in this copy): applied all the same


def replay(*, progress: Callable[[str], object] | None = None) -> ReplayResult:
    """Carry out, on this thread's ``default`` database, every ledger entry it has not applied, in order."""
    progress = progress or (lambda message: None)
    result = ReplayResult()
    try:
        entries = read()
        result.entries = len(entries)
        todo = pending(entries)
    except LedgerError as exc:
        result.error = str(exc)
        return result
    except DatabaseError as exc:  # a copy older than the ledger's table
        result.error = (f"the database does not record which erasures it applied ({str(exc).splitlines()[0]}): "
                        "migrate it, then replay")
        return result
    for entry in todo:
        name = f"{entry.kind} {entry.subject} (entry {entry.seq})"
        try:
            _apply(entry)
        except Exception as exc:  # noqa: BLE001 (reported, and the copy must then not serve)
            result.failed.append(f"{name}: {exc}")
            continue
        result.replayed.append(name)
        progress(f"replayed {name}")
    return result


def came_back(entries: list[Entry] | None = None) -> list[str]:
    """What the ledger says was erased or deleted but this database holds again (empty: nothing)."""
    from django.contrib.auth import get_user_model

    from bastion.privacy.erasure import is_erased
    from bastion.tenancy import context
    from bastion.tenancy.models import Organisation

    entries = read() if entries is None else entries
    back = []
    users = get_user_model().objects
    for entry in entries:
        if entry.kind == PERSON_ERASED:
            user = users.filter(pk=int(entry.subject)).first()
            if user is not None and not is_erased(user):
                back.append(f"person {entry.subject}")
        else:
            with context.platform_scope():
                if Organisation.objects.filter(id=entry.subject).exists():
                    back.append(f"organisation {entry.subject}")
    return back

