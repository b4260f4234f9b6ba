"""``bastion backup list`` and the retention of SQLite snapshots (``expire``)."""

from __future__ import annotations

import datetime
import functools
import hashlib
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit_chain
from bastion.audit.checkpoints import enter_chain
from bastion.backups import audit_actions, retention
from bastion.backups.models import Backup
from bastion.backups.repository import RepositoryError, by_description, configured
from bastion.db.platform import PLATFORM_ID


@dataclass(frozen=True)
class Listed:
    id: str
    engine: str
    type: str
    repository: str
    finished_at: datetime.datetime | None
    restore_point: datetime.datetime | None
    size: int
    status: str
    proven_by_drill: str | None
    error: str


def listing() -> list[Listed]:
    return [Listed(str(b.id), b.engine, b.type, b.repository, b.finished_at, b.restore_point, b.size, b.status,
                   str(b.proven_by_drill_id) if b.proven_by_drill_id else None, b.error)
            for b in Backup.objects.exclude(status="expired").order_by("started_at")]


@dataclass
class ExpireResult:
    kept: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def expire_snapshots(*, now: datetime.datetime | None = None, policy: retention.Policy | None = None) -> ExpireResult:
    """Delete SQLite snapshots outside the catalogue, repository by repository (only good ones count:
    a failed backup never pushes a good one out)."""
    now, policy, result = now or timezone.now(), policy or retention.Policy.from_settings(), ExpireResult()
    good = Backup.objects.filter(engine="sqlite", status="ok")
    for description in sorted(set(good.values_list("repository", flat=True))):
        rows = list(good.filter(repository=description))
        keep = retention.keep([(str(b.id), b.restore_point or b.started_at) for b in rows], now, policy)
        for backup in rows:
            if str(backup.id) in keep:
                result.kept.append(str(backup.id))
                continue
            try:
                by_description(description).delete(str(backup.id))
            except RepositoryError as exc:
                result.errors.append(str(exc))
                continue
            with transaction.atomic():
                Backup.objects.filter(pk=backup.pk).update(status="expired")
                enter_chain(PLATFORM_ID)
                audit_chain.record(audit_actions.BACKUP_EXPIRED, resource_type="backup", resource_id=str(backup.id),
                                   changes={"repository": description,
                                            "restore_point": (backup.restore_point or backup.started_at).isoformat()})
            result.expired.append(str(backup.id))
    return result


@dataclass
class RepositoryCheck:
    repository: str
    backups: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_repositories() -> list[RepositoryCheck]:
    """Every complete backup in every repository: its file is there, with the size and SHA-256 its
    manifest records (so a file cut short, altered or lost is found before it is needed)."""
    checks = []
    for repository in configured():
        check = RepositoryCheck(repository.description)
        checks.append(check)
        try:
            manifests = repository.manifests()
        except RepositoryError as exc:
            check.problems.append(str(exc))
            continue
        for manifest in manifests:
            check.backups += 1
            digest, size = hashlib.sha256(), 0
            try:
                stored = repository.open(f"{manifest['id']}.bak")
                try:
                    for piece in iter(functools.partial(stored.read, 1024 * 1024), b""):
                        digest.update(piece)
                        size += len(piece)
                finally:
                    stored.close()
            except (RepositoryError, KeyError) as exc:
                check.problems.append(f"backup {manifest.get('id')}: {exc}")
                continue
            if size != manifest.get("size") or digest.hexdigest() != manifest.get("sha256"):
                check.problems.append(f"backup {manifest['id']}: the stored file is not the one written "
                                      f"({size} bytes, manifest says {manifest.get('size')})")
    return checks
