"""The status page's "Backups" component, found by ``operations.probes`` in this module (backups
cannot import operations, which sits above it): failing when the newest backup failed, when no good
backup is recent while backups are on, or when the newest restore drill failed. A fresh installation
that has not had its first hourly backup or weekly drill yet is not failing for that."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from bastion.backups.status import latest

MAX_BACKUP_AGE = datetime.timedelta(hours=2)  # the hourly backup, missed once


class BackupsFailing(Exception):
    pass


def check() -> str:
    state = latest()
    if state.last_backup_ok is False:
        raise BackupsFailing("the newest backup failed")
    if state.last_good_backup_at is None:
        return "no backup yet (the first one runs within the hour)" if settings.BASTION_BACKUP_ENABLED else "off"
    if settings.BASTION_BACKUP_ENABLED and timezone.now() - state.last_good_backup_at > MAX_BACKUP_AGE:
        raise BackupsFailing(f"no good backup in the last {MAX_BACKUP_AGE}")
    if state.last_drill_ok is False:
        raise BackupsFailing("the newest restore drill failed")
    if state.last_drill_at is None:
        return "no restore drill yet"
    return f"restore drill: RTO {state.rto_seconds:.1f} s, RPO {state.rpo_seconds:.1f} s"


STATUS_COMPONENTS = [("backups", "Backups", check, "degraded")]
