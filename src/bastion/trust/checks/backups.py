"""Backups and restore drills within their targets (``backups.status``)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from bastion.backups import status
from bastion.trust.checks import Outcome, check, failed, passed

BACKUP_TARGET = datetime.timedelta(hours=26)  # daily backups (seed 000), an hour of slack
DRILL_TARGET = datetime.timedelta(days=8)  # the weekly drill job, a day of slack


@check("backups.recent_and_drilled", "A good backup within a day and a passed restore drill within a week")
def recent_and_drilled() -> Outcome:
    state, now = status.latest(), timezone.now()
    evidence = state.as_dict()
    problems = []
    if state.last_backup_ok is False:
        problems.append(f"the newest backup (to {state.last_backup_repository}) failed")
    if state.last_good_backup_at is None or now - state.last_good_backup_at > BACKUP_TARGET:
        problems.append(f"no good backup within {BACKUP_TARGET}")
    if state.last_drill_ok is False:
        problems.append("the newest restore drill failed")
    if state.last_drill_at is None or now - state.last_drill_at > DRILL_TARGET:
        problems.append(f"no restore drill within {DRILL_TARGET}")
    rto = getattr(settings, "BASTION_BACKUP_RTO_SECONDS", None)
    if rto and state.rto_seconds and state.rto_seconds > rto:
        problems.append(f"the last drill's RTO {state.rto_seconds:.0f} s is over the target {rto} s")
    if problems:
        return failed("; ".join(problems), **evidence)
    return passed(f"last good backup {state.last_good_backup_at:%Y-%m-%d %H:%M} UTC, last drill passed "
                  f"(RTO {state.rto_seconds or 0:.1f} s, RPO {state.rpo_seconds or 0:.1f} s)", **evidence)
