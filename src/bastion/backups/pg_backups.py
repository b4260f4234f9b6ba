"""PostgreSQL: backups into each pgBackRest repository (each recorded, audited, and loud when it
fails), point-in-time restores into a new cluster, and Bastion's retention enforced with ``expire``."""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import (
    audit_actions,
    chains,
    environments,
    failures,
    metrics,
    pg_cluster,
    restored_database,
    retention,
)
from bastion.backups.models import Backup
from bastion.backups.pgbackrest import PgBackRest, PgBackRestError, parse_backup
from bastion.db.platform import PLATFORM_ID
from bastion.privacy import ledger

Progress = Callable[[str], object]  # what it returns is ignored
REPOSITORIES = {1: "repo1 (local)", 2: "repo2 (offsite)"}


def configured() -> PgBackRest:
    if not settings.BASTION_PGBACKREST_CONFIG:
        raise PgBackRestError("BASTION_PGBACKREST_CONFIG is not set (see docs/backups.md)")
    return PgBackRest(Path(settings.BASTION_PGBACKREST_CONFIG), settings.BASTION_PGBACKREST_STANZA)


@dataclass
class RepoResult:
    repo: int
    backup_id: str
    label: str = ""
    type: str = ""
    size: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class PgBackupResult:
    kind: str
    seconds: float = 0.0
    copies: list[RepoResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.copies) and all(copy.ok for copy in self.copies)


def take(pgbackrest: PgBackRest, kind: str, *, repos: tuple[int, ...] = (1, 2),
         progress: Progress | None = None) -> PgBackupResult:
    """A ``full``, ``diff`` or ``incr`` backup into each repository in turn."""
    progress = progress or (lambda message: None)
    started, result = time.monotonic(), PgBackupResult(kind)
    for repo in repos:
        backup = Backup.objects.create(engine="postgresql", type=kind, repository=REPOSITORIES.get(repo, f"repo{repo}"),
                                       started_at=timezone.now())
        copy = RepoResult(repo, str(backup.id))
        result.copies.append(copy)
        try:
            before = {entry["label"] for entry in pgbackrest.backups(repo)}
            pgbackrest.backup(kind, repo, annotations={environments.ANNOTATION: settings.BASTION_ENVIRONMENT})
            made = [parse_backup(e) for e in pgbackrest.backups(repo) if e["label"] not in before]
            if not made:
                raise PgBackRestError("pgbackrest reported success but lists no new backup")
            info = made[-1]
        except PgBackRestError as exc:
            copy.error = str(exc)
            failures.backup_failed(backup, copy.error)
            progress(f"FAILED repo{repo}: {copy.error}")
            continue
        copy.label, copy.type, copy.size = info.label, info.type, info.size
        with transaction.atomic():
            Backup.objects.filter(pk=backup.pk).update(status="ok", type=info.type, label=info.label, size=info.size,
                                                       restore_point=info.stopped, finished_at=timezone.now())
            enter_chain(PLATFORM_ID)
            audit_chain.record(audit_actions.BACKUP_COMPLETED, resource_type="backup", resource_id=str(backup.id),
                               changes={"engine": "postgresql", "type": info.type, "repository": f"repo{repo}",
                                        "label": info.label, "size": info.size})
        progress(f"ok repo{repo}: {info.type} backup {info.label}, {info.size} bytes")
    result.seconds = time.monotonic() - started
    metrics.record_backup(result)
    return result


def due_kind(now: datetime.datetime, backups: list[Backup]) -> str:
    """The schedule: a full backup weekly, a differential daily, an incremental otherwise (hourly)."""
    good = [b for b in backups if b.status == "ok" and b.finished_at]
    fulls = [b.finished_at for b in good if b.type == "full" and b.finished_at is not None]
    if not fulls or now - max(fulls) >= datetime.timedelta(days=7):
        return "full"
    daily = [b.finished_at for b in good if b.type in ("full", "diff") and b.finished_at is not None]
    if now - max(daily) >= datetime.timedelta(days=1):
        return "diff"
    return "incr"


@dataclass
class ExpireResult:
    kept: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)


def expire(pgbackrest: PgBackRest, repo: int, *, now: datetime.datetime | None = None,
           policy: retention.Policy | None = None) -> ExpireResult:
    """Bastion's catalogue over the full backups (a full backup takes its differentials and
    incrementals with it); ``expire --set`` for each one outside it."""
    now, policy, result = now or timezone.now(), policy or retention.Policy.from_settings(), ExpireResult()
    fulls = [parse_backup(e) for e in pgbackrest.backups(repo) if e["type"] == "full"]
    keep = retention.keep([(f.label, f.stopped) for f in fulls], now, policy)
    for full in fulls:
        if full.label in keep:
            result.kept.append(full.label)
            continue
        pgbackrest.expire(full.label, repo)
        result.expired.append(full.label)
        with transaction.atomic():
            Backup.objects.filter(engine="postgresql", label__startswith=full.label[:16]).update(status="expired")
            enter_chain(PLATFORM_ID)
            audit_chain.record(audit_actions.BACKUP_EXPIRED, resource_type="backup", resource_id=full.label,
                               changes={"repository": f"repo{repo}", "stopped": full.stopped.isoformat()})
    return result


def run_due(*, repos: tuple[int, ...] | None = None) -> PgBackupResult:
    pgbackrest = configured()
    repos = repos or pgbackrest.repo_keys()
    kind = due_kind(timezone.now(), list(Backup.objects.filter(engine="postgresql")))
    result = take(pgbackrest, kind, repos=repos)
    for repo in repos:
        try:
            expire(pgbackrest, repo)
        except PgBackRestError:
            continue  # an unreachable repository is already reported by the failed backup
    return result


@dataclass
class PgRestoreResult:
    cluster: pg_cluster.Restored
    restored_time: datetime.datetime | None  # the newest replayed transaction
    seconds: float
    chains: list[chains.ChainCheck] = field(default_factory=list)
    erasures: ledger.ReplayResult = field(default_factory=ledger.ReplayResult)

    @property
    def events_lost(self) -> int:
        return sum(check.events_lost for check in self.chains)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.chains) and self.erasures.ok


def restore(pgbackrest: PgBackRest, directory: Path, port: int, *, target_time: datetime.datetime | None = None,
            label: str | None = None, repo: int | None = None, database: str | None = None,
            live: dict[str, int] | None = None, progress: Progress | None = None,
            replay_erasures: bool = True) -> PgRestoreResult:
    """Into a new cluster (``directory``, ``port``), started and polled until out of recovery; with
    ``database`` (Bastion's), every audit chain in it verified against the anchored checkpoints
    (the events lost counted against ``live``, each chain's length; default: the live heads now), then
    the erasure ledger replayed into it (``privacy.ledger``)."""
    progress = progress or (lambda message: None)
    started = time.monotonic()
    environments.check_pg_repository(pgbackrest.info(), repo)
    pg_cluster.prepare(directory)
    if database and live is None:
        live = chains.live_heads()
    pgbackrest.restore(directory, time=target_time, label=label, repo=repo)
    progress(f"restored into {directory}; starting it on port {port}")
    cluster = pg_cluster.start(directory, port)
    replayed = pg_cluster.wait_until_promoted(cluster)
    result = PgRestoreResult(cluster, replayed, 0.0)
    if database:
        with restored_database.postgresql(host=str(cluster.socket_dir), port=port, name=database):
            result.chains = chains.verify_restored(target_time or replayed or timezone.now(), live)
            if replay_erasures:  # the drill replays after its own checks (``drills.erasures_stay_erased``)
                result.erasures = ledger.replay(progress=progress)
                progress(f"erasure ledger: {result.erasures.summary()}")
    result.seconds = time.monotonic() - started
    return result
