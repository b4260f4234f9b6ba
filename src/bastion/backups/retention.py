"""Which backups to keep: everything of the last ``BASTION_BACKUP_KEEP_DAYS`` days (point-in-time
recovery to any moment of that window on PostgreSQL), plus the newest backup of each of the last
``KEEP_WEEKS`` ISO weeks and of each of the last ``KEEP_MONTHS`` months (grandfather-father-son).
Bastion computes the catalogue; the SQLite repositories delete the rest here, pgBackRest with ``expire``."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    days: int = 30
    weeks: int = 4
    months: int = 6

    @classmethod
    def from_settings(cls) -> Policy:
        from django.conf import settings

        return cls(settings.BASTION_BACKUP_KEEP_DAYS, settings.BASTION_BACKUP_KEEP_WEEKS, settings.BASTION_BACKUP_KEEP_MONTHS)


def keep(backups: Iterable[tuple[str, datetime.datetime]], now: datetime.datetime, policy: Policy) -> set[str]:
    """The ids to keep among ``(id, moment)`` pairs. The newest backup is always kept, whatever its age."""
    ordered = sorted(backups, key=lambda item: item[1], reverse=True)
    kept: set[str] = {ordered[0][0]} if ordered else set()
    weeks: dict[tuple[int, int], str] = {}
    months: dict[tuple[int, int], str] = {}
    for backup_id, moment in ordered:  # newest first: the first one seen in a week or month is its newest
        if now - moment <= datetime.timedelta(days=policy.days):
            kept.add(backup_id)
        weeks.setdefault((moment.isocalendar().year, moment.isocalendar().week), backup_id)
        months.setdefault((moment.year, moment.month), backup_id)
    this_week, this_month = now.isocalendar(), (now.year, now.month)
    for (year, week), backup_id in weeks.items():
        age = (this_week[0] - year) * 52 + (this_week[1] - week)
        if 0 <= age < policy.weeks:
            kept.add(backup_id)
    for (year, month), backup_id in months.items():
        age = (this_month[0] - year) * 12 + (this_month[1] - month)
        if 0 <= age < policy.months:
            kept.add(backup_id)
    return kept
