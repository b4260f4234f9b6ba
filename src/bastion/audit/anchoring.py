"""Signed checkpoints written outside the database, where its owner cannot rewrite them.

``BASTION_AUDIT_ANCHOR_URL`` chooses the store:

- a directory (the default, ``$BASTION_DATA_DIR/witness/``, mode 0700, or ``file:///dir``): one
  append-only log per chain (``<chain>.jsonl``, mode 0600), each record appended under an exclusive
  lock and fsync'd. It protects against a database superuser, not against root on the machine;
- ``s3://bucket[/prefix]?endpoint_url=…&region=…``: one object per checkpoint
  (``prefix/<chain>/<tree_size>.json``) written with Object Lock in **compliance** mode until
  ``BASTION_AUDIT_ANCHOR_RETENTION_DAYS`` from now. The bucket must have Object Lock enabled (so
  versioning): a locked version cannot be deleted, and an overwrite only adds a version, so every
  version is read and the oldest is the record.

A record is the checkpoint exactly as the export writes it (``{"type": "checkpoint", "body": …,
"signature": …}``), so a customer can keep any of them as a trusted checkpoint for
``bastion-verify --trusted-checkpoint``. The first record for a tree size is the record; a later,
different one is reported by ``read`` as a conflict.
"""

from __future__ import annotations

import datetime
import fcntl
import functools
import json
import logging
import os
import stat
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

from bastion.config import BAD_URL, ConfigError

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ObjectVersionTypeDef

logger = logging.getLogger("bastion.audit")


class AnchorError(Exception):
    """The anchor store could not be written or read; the message is one line, without secrets."""


@dataclass
class Anchored:
    """What the store holds for one chain: tree size → the first record, and any conflicting later ones."""

    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    conflicts: dict[int, int] = field(default_factory=dict)  # tree size → number of differing later records

    def add(self, record: dict[str, Any]) -> None:
        body = record.get("body") if isinstance(record, dict) else None
        size = body.get("tree_size") if isinstance(body, dict) else None
        if type(size) is not int:
            self.conflicts[-1] = self.conflicts.get(-1, 0) + 1  # unreadable record
            return
        first = self.records.setdefault(size, record)
        if first is not record and first != record:
            self.conflicts[size] = self.conflicts.get(size, 0) + 1


class AnchorStore(Protocol):
    description: str

    def put(self, chain: str, record: dict[str, Any]) -> None: ...

    def read(self, chain: str) -> Anchored: ...


def record_line(record: dict[str, Any]) -> bytes:
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n").encode()


def _chain_name(chain: str) -> str:
    """Chain ids become file and object names: only canonical UUIDs are accepted."""
    try:
        return str(uuid.UUID(chain))
    except ValueError as exc:
        raise AnchorError(f"not a chain id: {chain!r}") from exc


class LocalWitness:
    """An append-only, fsync'd log per chain in a directory of its own (0700)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.description = f"local witness log {directory}"

    def _ensure_directory(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            mode = stat.S_IMODE(self.directory.stat().st_mode)
        except OSError as exc:
            raise AnchorError(f"cannot create the witness directory {self.directory}: {exc.strerror}") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise AnchorError(f"the witness directory {self.directory} is open to group or others "
                              f"(mode {mode:04o}); run: chmod 700 {self.directory}")

    def put(self, chain: str, record: dict[str, Any]) -> None:
        self._ensure_directory()
        path = self.directory / f"{_chain_name(chain)}.jsonl"
        created = not path.exists()
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX)
                os.write(descriptor, record_line(record))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            if created:  # the new file's directory entry must survive a crash too
                directory = os.open(self.directory, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
        except OSError as exc:
            raise AnchorError(f"cannot append to {path}: {exc.strerror}") from exc

    def read(self, chain: str) -> Anchored:
        anchored = Anchored()
        path = self.directory / f"{_chain_name(chain)}.jsonl"
        try:
            with open(path, encoding="utf-8") as log:
                for line in log:
                    if line.strip():
                        anchored.add(_parse(line))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise AnchorError(f"cannot read {path}: {exc.strerror}") from exc
        return anchored


def _parse(text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


class S3ObjectLock:
    """One object per checkpoint, locked in compliance mode; every version read, the oldest kept."""

    def __init__(self, bucket: str, prefix: str, *, endpoint_url: str | None, region: str | None,
                 retention_days: int, clock: Callable[[], datetime.datetime] | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.bucket, self.prefix, self.retention_days = bucket, prefix.strip("/"), retention_days
        self.clock = clock or (lambda: datetime.datetime.now(datetime.UTC))
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region or "us-east-1",
                                   config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=10))
        self.description = f"s3://{bucket}/{self.prefix}"

    def _folder(self, chain: str) -> str:
        return f"{self.prefix}/{_chain_name(chain)}/" if self.prefix else f"{_chain_name(chain)}/"

    def put(self, chain: str, record: dict[str, Any]) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        key = f"{self._folder(chain)}{record['body']['tree_size']:020d}.json"
        until = self.clock() + datetime.timedelta(days=self.retention_days)
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=record_line(record),
                                   ContentType="application/json", ChecksumAlgorithm="SHA256",
                                   ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
        except (BotoCoreError, ClientError) as exc:
            raise AnchorError(f"cannot write {key} to {self.description}: {_reason(exc)}") from exc

    def read(self, chain: str) -> Anchored:
        from botocore.exceptions import BotoCoreError, ClientError

        anchored = Anchored()
        versions: dict[str, list[ObjectVersionTypeDef]] = {}
        try:
            pages = self.client.get_paginator("list_object_versions").paginate(Bucket=self.bucket,
                                                                                Prefix=self._folder(chain))
            for page in pages:
                for version in page.get("Versions", []):
                    versions.setdefault(version["Key"], []).append(version)
            for key in sorted(versions):
                # Oldest first: the first version is the record, later ones are overwrite attempts. S3 lists
                # a key's versions newest first; LastModified (to the second) only orders them further.
                for version in sorted(reversed(versions[key]), key=lambda v: v["LastModified"]):
                    body = self.client.get_object(Bucket=self.bucket, Key=key, VersionId=version["VersionId"])["Body"]
                    anchored.add(_parse(body.read().decode("utf-8", "replace")))
        except (BotoCoreError, ClientError) as exc:
            raise AnchorError(f"cannot read {self.description}: {_reason(exc)}") from exc
        return anchored


def _reason(exc: Exception) -> str:
    error = getattr(exc, "response", {}).get("Error", {}) if hasattr(exc, "response") else {}
    if error:
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def check_url(url: str) -> tuple[str, dict[str, Any]]:
    """``("directory", {"path"})`` or ``("s3", {bucket, prefix, endpoint_url, region})`` for
    ``BASTION_AUDIT_ANCHOR_URL``; ``ConfigError`` naming the variable when it is malformed. Settings
    call it at start-up, so a bad value stops every command at once."""
    parts = urlsplit(url)
    if parts.scheme in ("", "file"):
        path = parts.path if parts.scheme == "file" else url
        if not path or not os.path.isabs(path):
            raise ConfigError(f"BASTION_AUDIT_ANCHOR_URL={url!r}: a directory must be an absolute path", check_id=BAD_URL)
        return "directory", {"path": path}
    if parts.scheme == "s3" and parts.netloc:
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        unknown = set(query) - {"endpoint_url", "region"}
        if unknown:
            raise ConfigError(f"BASTION_AUDIT_ANCHOR_URL: unknown option(s) {', '.join(sorted(unknown))} "
                              "(known: endpoint_url, region)", check_id=BAD_URL)
        return "s3", {"bucket": parts.netloc, "prefix": parts.path, "endpoint_url": query.get("endpoint_url"),
                      "region": query.get("region")}
    raise ConfigError(f"BASTION_AUDIT_ANCHOR_URL={url!r}: use a directory, file:///directory or s3://bucket[/prefix]",
                      check_id=BAD_URL)


def parse_url(url: str, retention_days: int) -> AnchorStore:
    """The store ``BASTION_AUDIT_ANCHOR_URL`` names."""
    kind, options = check_url(url)
    if kind == "directory":
        return LocalWitness(Path(options["path"]))
    return S3ObjectLock(options["bucket"], options["prefix"], endpoint_url=options["endpoint_url"],
                        region=options["region"], retention_days=retention_days)


@functools.lru_cache(maxsize=4)
def _store(url: str, retention_days: int) -> AnchorStore:
    return parse_url(url, retention_days)


def store() -> AnchorStore:
    from django.conf import settings

    return _store(settings.BASTION_AUDIT_ANCHOR_URL, settings.BASTION_AUDIT_ANCHOR_RETENTION_DAYS)
