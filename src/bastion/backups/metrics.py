"""Prometheus metrics of backups and drills (alert rules read these)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

BACKUP_FAILURES = Counter("bastion_backup_failures", "Backups that failed (per repository copy)")
LAST_BACKUP_SUCCESS = Gauge("bastion_backup_last_success_timestamp_seconds", "When the newest good backup finished")
LAST_BACKUP_SECONDS = Gauge("bastion_backup_last_duration_seconds", "How long the newest backup took")
DRILL_FAILURES = Counter("bastion_backup_drill_failures", "Restore drills that failed")
LAST_DRILL_OK = Gauge("bastion_backup_last_drill_ok", "1 when the newest restore drill succeeded, else 0")
LAST_DRILL_RTO = Gauge("bastion_backup_last_drill_rto_seconds", "RTO measured by the newest drill")
LAST_DRILL_RPO = Gauge("bastion_backup_last_drill_rpo_seconds", "RPO measured by the newest drill")


def record_backup(result) -> None:
    if result.ok:
        LAST_BACKUP_SUCCESS.set_to_current_time()
        LAST_BACKUP_SECONDS.set(result.seconds)


def record_drill(drill) -> None:
    LAST_DRILL_OK.set(1 if drill.ok else 0)
    if drill.rto_seconds is not None:
        LAST_DRILL_RTO.set(drill.rto_seconds)
    if drill.rpo_seconds is not None:
        LAST_DRILL_RPO.set(drill.rpo_seconds)
    if not drill.ok:
        DRILL_FAILURES.inc()


LAST_DR_DRILL_OK = Gauge("bastion_dr_last_drill_ok", "1 when the newest DR drill (promoted standby copy) succeeded")
LAST_DR_DRILL_RTO = Gauge("bastion_dr_last_drill_rto_seconds", "RTO measured by the newest DR drill")
LAST_DR_DRILL_RPO = Gauge("bastion_dr_last_drill_rpo_seconds", "Data lost (seconds) measured by the newest DR drill")


def record_dr_drill(drill) -> None:
    """Kept apart from the restore drills' gauges: a failover drill does not prove a backup."""
    LAST_DR_DRILL_OK.set(1 if drill.ok else 0)
    if drill.rto_seconds is not None:
        LAST_DR_DRILL_RTO.set(drill.rto_seconds)
    if drill.rpo_seconds is not None:
        LAST_DR_DRILL_RPO.set(drill.rpo_seconds)
