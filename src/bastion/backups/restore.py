"""``bastion backup restore``: a backup into a new place — never over the live database — then
every audit chain of the copy verified against the anchored checkpoints, with the events beyond the
restore point counted as data lost, then the erasures and deletions made since the backup carried out
again from the erasure ledger (``privacy.ledger.replay``) before anything can serve the copy."""

from __future__ import annotations

import datetime
import os
import shutil
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, chains, environments, keys, restored_database, snapshots
from bastion.backups.repository import RepositoryError
from bastion.crypto import streams
from bastion.db.platform import PLATFORM_ID
from bastion.privacy import ledger

Progress = Callable[[str], object]  # what it returns is ignored


class RestoreRefused(Exception):
    """Bad usage: a target that is the live database or not empty, an unknown backup; one line."""


class RestoreFailed(Exception):
    """The backup could not be read or opened (repository down, altered file, key gone)."""


@dataclass
class RestoreResult:
    backup_id: str
    repository: str
    directory: Path
    restore_point: datetime.datetime
    seconds: float
    chains: list[chains.ChainCheck] = field(default_factory=list)
    details: dict = field(default_factory=dict)  # the manifest's row counts and chain heads
    erasures: ledger.ReplayResult = field(default_factory=ledger.ReplayResult)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.chains) and self.erasures.ok

    @property
    def events_lost(self) -> int:
        return sum(check.events_lost for check in self.chains)

    @property
    def database(self) -> Path:
        return self.directory / snapshots.DATABASE_MEMBER


def _refuse_live_target(directory: Path) -> None:
    target = directory.resolve()
    if target == Path(settings.DATA_DIR).resolve():
        raise RestoreRefused(f"{directory} is the live data directory: restore into a new place")
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise RestoreRefused(f"{directory} is not a new, empty directory: restore into a new place")


def _safe_members(tar: tarfile.TarFile):
    for member in tar.getmembers():
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise RestoreFailed(f"the archive holds an unexpected entry {member.name!r}")
        if name.parts[0] not in (snapshots.DATABASE_MEMBER, snapshots.OBJECTS_MEMBER):
            raise RestoreFailed(f"the archive holds an unexpected entry {member.name!r}")
        yield member


def unpack(backup_id: str | None, directory: Path, progress: Progress) -> tuple[str, dict]:
    """Decrypt and unpack a snapshot (the newest when ``backup_id`` is None) into ``directory``."""
    try:
        repository, manifest = (snapshots.manifest_of(backup_id) if backup_id else snapshots.latest_manifest())
    except LookupError as exc:
        raise RestoreRefused(str(exc)) from exc
    backup_id = manifest["id"]
    try:
        environments.check_before_unpack(manifest)
    except environments.NotAnonymised as exc:
        raise RestoreRefused(str(exc)) from exc
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    try:
        key = keys.open_file_key(backup_id, manifest["key"])
        with tempfile.TemporaryFile(dir=directory) as archive:
            stored = repository.open(f"{backup_id}.bak")
            try:
                for piece in streams.decrypt(stored.read, key, snapshots.ad(backup_id, manifest)):
                    archive.write(piece)
            finally:
                stored.close()
            archive.seek(0)
            with tarfile.open(fileobj=archive, mode="r:") as tar:
                tar.extractall(directory, members=list(_safe_members(tar)), filter="data")
    except (RepositoryError, keys.BackupKeyUnavailable, streams.StreamDecryptionFailed, tarfile.TarError) as exc:
        raise RestoreFailed(f"backup {backup_id} from {repository.description}: {exc}") from exc
    for path in directory.rglob("*"):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    try:
        environments.check_after_unpack(manifest, directory / snapshots.DATABASE_MEMBER)
    except environments.NotAnonymised as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise RestoreRefused(str(exc)) from exc
    progress(f"backup {backup_id} from {repository.description} unpacked into {directory}")
    return repository.description, manifest


def restore(to: Path, *, backup_id: str | None = None, progress: Progress | None = None,
            record: bool = True, live: dict[str, int] | None = None, replay_erasures: bool = True) -> RestoreResult:
    """``live``: each chain's length to count the lost events against (default: the live heads now).
    ``replay_erasures=False``: for the drill, which compares the copy with the source first and
    replays afterwards (``drills.erasures_stay_erased``)."""
    progress = progress or (lambda message: None)
    started = time.monotonic()
    to = Path(to)
    _refuse_live_target(to)
    live = chains.live_heads() if live is None else live
    repository, manifest = unpack(backup_id, to, progress)
    restore_point = datetime.datetime.fromisoformat(manifest["restore_point"])
    with restored_database.sqlite(to / snapshots.DATABASE_MEMBER):
        # An anonymised copy carries no audit log (``bastion anonymise``): nothing to verify.
        checks = [] if environments.is_anonymised(manifest) else chains.verify_restored(restore_point, live)
        # Verified first: the replay appends to the copy's chains.
        erasures = ledger.replay(progress=progress) if replay_erasures else ledger.ReplayResult()
    result = RestoreResult(manifest["id"], repository, to, restore_point, time.monotonic() - started, checks,
                           {"row_counts": manifest.get("row_counts", {}), "chain_heads": manifest.get("chain_heads", {})},
                           erasures)
    progress(f"{len(checks)} audit chain(s) verified, {result.events_lost} event(s) beyond the restore point")
    if replay_erasures:
        progress(f"erasure ledger: {erasures.summary()}")
    if record:
        with transaction.atomic():
            enter_chain(PLATFORM_ID)
            audit_chain.record(audit_actions.RESTORE_COMPLETED, resource_type="backup", resource_id=result.backup_id,
                               changes={"to": str(to), "restore_point": restore_point.isoformat(), "ok": result.ok,
                                        "events_lost": result.events_lost,
                                        "erasures_replayed": len(erasures.replayed),
                                        "broken_chains": [c.chain_id for c in checks if not c.ok]})
    return result


def remove(directory: Path) -> None:
    shutil.rmtree(directory, ignore_errors=True)
