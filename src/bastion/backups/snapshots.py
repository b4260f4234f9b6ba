"""SQLite backups: a consistent online snapshot with SQLite's backup API (readers and writers go on
while it copies), packed with a copy of local object storage (evidence, exports: already encrypted
files) into one archive, encrypted in the streaming AEAD format of ``bastion.crypto.streams`` under a
key of its own (``keys``), and written to every configured repository.

Object storage on S3 is not copied: it is covered by the bucket's own versioning and replication.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages
from django.db import connections, transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, failures, keys, metrics
from bastion.backups.models import Backup
from bastion.backups.repository import Repository, RepositoryError, configured
from bastion.crypto import streams
from bastion.db.platform import PLATFORM_ID

FORMAT = "bastion-sqlite-snapshot-1"
DATABASE_MEMBER = "bastion.sqlite3"
OBJECTS_MEMBER = "objects"

Progress = Callable[[str], object]  # what it returns is ignored


@dataclass
class CopyResult:
    repository: str
    backup_id: str | None
    size: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class SnapshotResult:
    restore_point: datetime.datetime
    seconds: float
    archive_bytes: int
    copies: list[CopyResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.copies) and all(copy.ok for copy in self.copies)


def _snapshot_database(target: Path) -> datetime.datetime:
    """Copy the live database into ``target`` in one step of the backup API: a consistent snapshot of
    the moment it started (it holds a read lock while it copies, writers in WAL mode are not blocked)."""
    connection = connections["default"]
    connection.ensure_connection()
    destination = sqlite3.connect(target)
    try:
        moment = timezone.now()
        connection.connection.backup(destination)
    finally:
        destination.close()
    return moment


def row_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        tables = [name for (name,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: db.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}


def chain_heads(database: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
        return {str(chain): seq for chain, seq in db.execute("SELECT chain_id, seq FROM audit_chainhead")}


def _local_objects() -> Path | None:
    storage = storages["default"]
    return Path(storage.location) if isinstance(storage, FileSystemStorage) else None


def _archive(workdir: Path, progress: Progress) -> tuple[Path, datetime.datetime, dict]:
    database = workdir / DATABASE_MEMBER
    moment = _snapshot_database(database)
    progress(f"snapshot of the database taken ({database.stat().st_size} bytes)")
    archive = workdir / "archive.tar"
    objects = _local_objects()
    with tarfile.open(archive, "w") as tar:
        tar.add(database, arcname=DATABASE_MEMBER)
        if objects is not None and objects.is_dir():
            tar.add(objects, arcname=OBJECTS_MEMBER)
    details = {"row_counts": row_counts(database), "chain_heads": chain_heads(database),
               "objects_included": objects is not None, "environment": settings.BASTION_ENVIRONMENT}
    return archive, moment, details


def _encrypt(archive: Path, target: Path, backup_id: str, details: dict, kek_owner: str) -> tuple[dict, str]:
    key, wrapped = keys.new_file_key(backup_id, owner=kek_owner)
    digest = hashlib.sha256()
    with open(archive, "rb") as source, open(target, "wb") as out:
        for piece in streams.encrypt(iter(lambda: source.read(1024 * 1024), b""), key, ad(backup_id, details)):
            digest.update(piece)
            out.write(piece)
    return wrapped, digest.hexdigest()


def ad(backup_id: str, manifest: dict | None = None) -> bytes:
    """The associated data the archive is sealed with: its id and, since backups record where they
    were taken, that environment and any anonymisation mark. The manifest beside the archive is
    plain JSON, so these claims are bound here: a manifest edited to say "staging" (or to claim an
    anonymisation) no longer opens its archive. Backups from before the field keep the old form."""
    base = f"bastion-backup|{FORMAT}|{backup_id}"
    if manifest is None or "environment" not in manifest:
        return base.encode()
    mark = manifest.get("anonymised")
    claims = {"environment": manifest["environment"],
              "anonymised_sha256": mark.get("database_sha256") if isinstance(mark, dict) else None}
    return f"{base}|{json.dumps(claims, sort_keys=True, separators=(',', ':'))}".encode()


def take(*, progress: Progress | None = None, repositories: list[Repository] | None = None) -> SnapshotResult:
    """One snapshot, encrypted separately for each repository (each copy its own id and key)."""
    progress = progress or (lambda message: None)
    if connections["default"].vendor != "sqlite":
        raise ValueError("SQLite snapshots are for the embedded database; PostgreSQL is backed up by pgBackRest")
    started = time.monotonic()
    repositories = repositories if repositories is not None else configured()
    with tempfile.TemporaryDirectory(prefix="bastion-backup-") as work:
        workdir = Path(work)
        archive, moment, details = _archive(workdir, progress)
        result = SnapshotResult(restore_point=moment, seconds=0.0, archive_bytes=archive.stat().st_size)
        for repository in repositories:
            result.copies.append(_write_copy(repository, archive, moment, details, workdir, progress))
    result.seconds = time.monotonic() - started
    metrics.record_backup(result)
    return result


def store(archive: Path, moment: datetime.datetime, details: dict, *, kek_owner: str,
          progress: Progress | None = None) -> SnapshotResult:
    """An archive made elsewhere (``bastion anonymise``), written like a snapshot to every repository,
    its key wrapped under ``kek_owner``'s KEK."""
    progress = progress or (lambda message: None)
    started = time.monotonic()
    result = SnapshotResult(restore_point=moment, seconds=0.0, archive_bytes=archive.stat().st_size)
    for repository in configured():
        result.copies.append(_write_copy(repository, archive, moment, details, archive.parent, progress,
                                         kek_owner=kek_owner))
    result.seconds = time.monotonic() - started
    return result


def _write_copy(repository: Repository, archive: Path, moment, details: dict, workdir: Path,
                progress: Progress, *, kek_owner: str = keys.BACKUP_KEK_OWNER) -> CopyResult:
    backup = Backup.objects.create(engine="sqlite", type="snapshot", repository=repository.description,
                                   started_at=timezone.now(), restore_point=moment)
    encrypted = workdir / f"{backup.id}.bak"
    try:
        wrapped, sha256 = _encrypt(archive, encrypted, str(backup.id), details, kek_owner)
        size = repository.put(f"{backup.id}.bak", encrypted)
        manifest = {"format": FORMAT, "id": str(backup.id), "type": "snapshot", "engine": "sqlite",
                    "restore_point": moment.isoformat(), "finished_at": timezone.now().isoformat(),
                    "size": size, "sha256": sha256, "key": wrapped, **details}
        repository.put_manifest(str(backup.id), manifest)
    except (RepositoryError, keys.BackupKeyUnavailable, OSError) as exc:
        reason = str(exc) if not isinstance(exc, OSError) else f"cannot encrypt the snapshot: {exc.strerror}"
        failures.backup_failed(backup, reason)
        progress(f"FAILED {repository.description}: {reason}")
        return CopyResult(repository.description, str(backup.id), error=reason)
    finally:
        encrypted.unlink(missing_ok=True)
    with transaction.atomic():
        Backup.objects.filter(pk=backup.pk).update(status="ok", size=size, finished_at=timezone.now(), label=f"{backup.id}.bak")
        enter_chain(PLATFORM_ID)
        audit_chain.record(audit_actions.BACKUP_COMPLETED, resource_type="backup", resource_id=str(backup.id),
                           changes={"engine": "sqlite", "type": "snapshot", "repository": repository.description,
                                    "size": size, "restore_point": moment.isoformat()})
    progress(f"ok {repository.description}: backup {backup.id}, {size} bytes")
    return CopyResult(repository.description, str(backup.id), size=size)


def manifest_of(backup_id: str) -> tuple[Repository, dict]:
    """The repository holding ``backup_id`` and its manifest (``LookupError`` when none does)."""
    for repository in configured():
        try:
            manifests = repository.manifests()
        except RepositoryError:
            continue
        for manifest in manifests:
            if manifest.get("id") == backup_id:
                return repository, manifest
    raise LookupError(f"no backup {backup_id} in any configured repository")


def latest_manifest() -> tuple[Repository, dict]:
    """The newest complete snapshot in any repository reachable now (the local one first on a tie)."""
    best = None
    for repository in configured():
        try:
            manifests = repository.manifests()
        except RepositoryError:
            continue
        for manifest in manifests:
            if manifest.get("format") == FORMAT and (best is None or manifest["restore_point"] > best[1]["restore_point"]):
                best = (repository, manifest)
    if best is None:
        raise LookupError("no backup in any configured repository")
    return best


def manifests_within(since: datetime.datetime) -> list[tuple[Repository, dict]]:
    """Every complete snapshot restorable now whose moment is at or after ``since``, oldest first."""
    found = []
    for repository in configured():
        try:
            manifests = repository.manifests()
        except RepositoryError:
            continue
        found += [(repository, m) for m in manifests
                  if m.get("format") == FORMAT and datetime.datetime.fromisoformat(m["restore_point"]) >= since]
    return sorted(found, key=lambda item: item[1]["restore_point"])
