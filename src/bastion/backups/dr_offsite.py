"""The DR region's other half: the offsite backup repository (pgBackRest's repo2, on S3).

The streaming replica is the fast path of a failover; the offsite repository is the path when the
replica is lost too (or carries the damage, as a replicated ``DROP`` would). A DR drill that only
promoted the replica would say nothing of it, so the drill also asks pgBackRest itself — not
Bastion's catalogue, which lives on the primary that a disaster takes away — for the newest backup
in repo2, and fails when there is none or when it is older than ``BASTION_DR_OFFSITE_MAX_AGE_HOURS``
(default 26: a daily backup, with two hours' slack)."""

from __future__ import annotations

import datetime
import os

from bastion.backups.drills import Check
from bastion.backups.pgbackrest import PgBackRest, PgBackRestError, parse_backup

OFFSITE_REPO = 2
DEFAULT_MAX_AGE_HOURS = 26.0
NAME = "offsite backup"


def max_age_hours() -> float:
    """The configured bound; ValueError with the reason when it is not a positive number."""
    raw = os.environ.get("BASTION_DR_OFFSITE_MAX_AGE_HOURS", "").strip() or str(DEFAULT_MAX_AGE_HOURS)
    try:
        hours = float(raw)
    except ValueError:
        hours = -1.0
    if not 0 < hours < float("inf"):
        raise ValueError(f"BASTION_DR_OFFSITE_MAX_AGE_HOURS={raw!r}: give a number of hours > 0")
    return hours


def check(pgbackrest: PgBackRest, bound_hours: float, now: datetime.datetime) -> Check:
    """The newest backup in the offsite repository and its age, against ``bound_hours``."""
    if OFFSITE_REPO not in pgbackrest.repo_keys():
        return Check(NAME, False, f"no offsite repository (repo{OFFSITE_REPO}) in {pgbackrest.config}")
    try:
        backups = [parse_backup(entry) for entry in pgbackrest.backups(OFFSITE_REPO)]
    except (PgBackRestError, KeyError, ValueError) as exc:
        return Check(NAME, False, f"repo{OFFSITE_REPO} could not be read: {str(exc).strip() or type(exc).__name__}")
    if not backups:
        return Check(NAME, False, f"no backup in the offsite repository (repo{OFFSITE_REPO})")
    newest = max(backups, key=lambda backup: backup.stopped)
    age = (now - newest.stopped).total_seconds() / 3600
    return Check(NAME, age <= bound_hours,
                 f"newest in repo{OFFSITE_REPO} (offsite): {newest.type} backup {newest.label}, {age:.2f} h old, "
                 f"bound {bound_hours:g} h")
