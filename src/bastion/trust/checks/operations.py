"""Operations: incident-response exercises within six months; retention jobs."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone

from bastion.incidents import exercises
from bastion.trust.checks import UNKNOWN, Outcome, check, failed, passed


@check("incidents.exercise_recent", "An incident-response exercise was held within six months")
def exercise_recent() -> Outcome:
    recent = exercises.recent()
    evidence = {"recent": [{"reference": e.reference, "held_on": e.held_on.isoformat(), "reviewed": e.reviewed,
                            "outcome": e.outcome} for e in recent]}
    limit = datetime.timedelta(days=settings.BASTION_INCIDENT_EXERCISE_DAYS)
    if not recent or timezone.now().date() - recent[0].held_on > limit:
        return failed(f"no incident-response exercise within {limit.days} days", **evidence)
    return passed(f"last exercise {recent[0].reference} on {recent[0].held_on}", **evidence)


@check("privacy.retention_configured", "Retention periods are configured and the daily retention job is scheduled")
def retention_configured() -> Outcome:
    periods = {name: getattr(settings, name) for name in dir(settings) if name.startswith("BASTION_RETENTION_")
               and name.endswith("_DAYS")}
    # The job's runs leave no record when nothing was due (an audit event is written only for deletions).
    return Outcome(UNKNOWN, "periods configured; the job's last run is not recorded when nothing was due",
                   {"periods_days": periods})


@check("trust.last_run_recent", "The trust checks themselves ran within the last 26 hours")
def last_run_recent() -> Outcome:
    from bastion.trust.models import CheckRun  # noqa: PLC0415  (models load after the registry)

    last = CheckRun.objects.order_by("-finished_at").first()
    if last is None:
        return Outcome(UNKNOWN, "this is the first run")
    age = timezone.now() - last.finished_at
    evidence = {"previous_run": str(last.id), "finished_at": last.finished_at.isoformat()}
    if age > datetime.timedelta(hours=26):
        return failed(f"the previous run was {age} ago", **evidence)
    return passed(f"the previous run finished {int(age.total_seconds() // 60)} minutes ago", **evidence)
