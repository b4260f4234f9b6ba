"""What the status page, ``/status.json`` and the console read: the newest backup and drill figures."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from bastion.backups.models import Backup, Drill


@dataclass(frozen=True)
class BackupStatus:
    last_backup_at: datetime.datetime | None
    last_backup_ok: bool | None
    last_backup_repository: str | None
    last_good_backup_at: datetime.datetime | None
    last_drill_at: datetime.datetime | None
    last_drill_ok: bool | None
    rto_seconds: float | None
    rpo_seconds: float | None
    events_lost: int | None

    def as_dict(self) -> dict:
        def moment(value):
            return value.isoformat() if value else None
        return {"last_backup_at": moment(self.last_backup_at), "last_backup_ok": self.last_backup_ok,
                "last_backup_repository": self.last_backup_repository,
                "last_good_backup_at": moment(self.last_good_backup_at),
                "last_drill_at": moment(self.last_drill_at), "last_drill_ok": self.last_drill_ok,
                "rto_seconds": self.rto_seconds, "rpo_seconds": self.rpo_seconds, "events_lost": self.events_lost}


def latest() -> BackupStatus:
    good = Backup.objects.filter(status="ok").order_by("-started_at").first()
    # A copy that failed at or after the newest good one (the same run's offsite copy, say) is the news.
    failed = Backup.objects.filter(status="failed")
    if good is not None:
        failed = failed.filter(started_at__gte=good.started_at)
    last = failed.order_by("-started_at").first() or good
    drill = Drill.objects.filter(kind="backup").exclude(finished_at=None).order_by("-started_at").first()
    return BackupStatus(
        last_backup_at=last.finished_at if last else None, last_backup_ok=(last.status == "ok") if last else None,
        last_backup_repository=last.repository if last else None,
        last_good_backup_at=good.finished_at if good else None,
        last_drill_at=drill.finished_at if drill else None, last_drill_ok=drill.ok if drill else None,
        rto_seconds=drill.rto_seconds if drill else None, rpo_seconds=drill.rpo_seconds if drill else None,
        events_lost=drill.events_lost if drill else None,
    )


@dataclass(frozen=True)
class DrillFigures:
    """One drill as platform staff see it in the console (where backups live included: not public)."""

    started_at: datetime.datetime
    finished_at: datetime.datetime | None
    ok: bool
    point_in_time: bool  # a random moment inside the window, not the newest backup
    target_time: datetime.datetime | None
    restored_time: datetime.datetime | None
    rto_seconds: float | None
    rpo_seconds: float | None
    events_lost: int | None
    proven_backup: str | None  # "full backup of … in repo1 (local)"
    message: str


def recent_drills(limit: int = 10) -> list[DrillFigures]:
    figures = []
    for drill in Drill.objects.exclude(finished_at=None).select_related("backup").order_by("-started_at")[:limit]:
        backup = drill.backup
        figures.append(DrillFigures(
            drill.started_at, drill.finished_at, drill.ok,
            drill.target_time is not None and drill.target_time < drill.started_at - datetime.timedelta(seconds=1),
            drill.target_time, drill.restored_time, drill.rto_seconds, drill.rpo_seconds, drill.events_lost,
            (f"{backup.get_type_display()} backup {backup.label or backup.id} of "
             f"{backup.restore_point:%Y-%m-%d %H:%M:%S} UTC in {backup.repository}"
             if backup is not None and backup.restore_point else None), drill.message))
    return figures


@dataclass(frozen=True)
class Probe:
    name: str
    ok: bool
    detail: str


def probe(*, max_backup_age: datetime.timedelta = datetime.timedelta(hours=2),
          max_drill_age: datetime.timedelta = datetime.timedelta(days=8)) -> Probe:
    """For the status page: backups are healthy when the newest attempt succeeded, a good backup is
    recent, and the newest drill (if one ran within ``max_drill_age``) succeeded."""
    now, state = timezone.now(), latest()
    if state.last_backup_ok is False:
        return Probe("backups", False, f"the newest backup (to {state.last_backup_repository}) failed")
    if state.last_good_backup_at is None or now - state.last_good_backup_at > max_backup_age:
        return Probe("backups", False, "no good backup within " + str(max_backup_age))
    if state.last_drill_ok is False:
        return Probe("backups", False, "the newest restore drill failed")
    if state.last_drill_at is None or now - state.last_drill_at > max_drill_age:
        return Probe("backups", False, "no restore drill within " + str(max_drill_age))
    return Probe("backups", True, f"RTO {state.rto_seconds:.1f} s, RPO {state.rpo_seconds:.1f} s at the last drill")
