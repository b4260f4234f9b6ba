"""Operations: incident-response exercises within six months; the retention job ran."""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from bastion.db.platform import PLATFORM_ID
from bastion.incidents import exercises
from bastion.tenancy import context
from bastion.trust.checks import DAILY_WINDOW, UNKNOWN, Outcome, check, failed, passed


@check("incidents.exercise_recent", "An incident-response exercise was held within six months")
def exercise_recent() -> Outcome:
    recent = exercises.recent()
    evidence = {"recent": [{"reference": e.reference, "held_on": e.held_on.isoformat(), "reviewed": e.reviewed,
                            "outcome": e.outcome} for e in recent]}
    limit = datetime.timedelta(days=settings.BASTION_INCIDENT_EXERCISE_DAYS)
    if not recent or timezone.now().date() - recent[0].held_on > limit:
        return failed(f"no incident-response exercise within {limit.days} days", **evidence)
    return passed(f"last exercise {recent[0].reference} on {recent[0].held_on}", **evidence)


@check("privacy.retention_ran", "Retention periods are configured and the retention job ran within 26 hours",
       version=2)
def retention_ran() -> Outcome:
    from bastion.audit.models import AuditEvent  # noqa: PLC0415  (models load after the registry)
    from bastion.privacy.audit_actions import RETENTION_COMPLETED  # noqa: PLC0415

    periods = {name: getattr(settings, name) for name in dir(settings) if name.startswith("BASTION_RETENTION_")
               and name.endswith("_DAYS")}
    with context.platform_scope():
        last = (AuditEvent.objects.filter(chain_id=PLATFORM_ID, action=RETENTION_COMPLETED)
                .order_by("-seq").first())
        first = AuditEvent.objects.filter(chain_id=PLATFORM_ID).order_by("seq").first()
    evidence: dict[str, Any] = {"periods_days": periods}
    now = timezone.now()
    if last is None:
        if first is None or now - first.occurred_at < DAILY_WINDOW:
            return Outcome(UNKNOWN, "the retention job has not run yet on this new installation", evidence)
        return failed("the retention job has never run", **evidence)
    evidence.update(last_run_event=last.seq, last_run_at=last.occurred_at.isoformat(), outcome=last.changes)
    age = now - last.occurred_at
    if age > DAILY_WINDOW:
        return failed(f"the retention job last ran {age} ago", **evidence)
    return passed(f"the retention job ran {int(age.total_seconds() // 60)} minutes ago over "
                  f"{last.changes.get('organisations')} organisations, deleting {last.changes.get('deleted')} rows",
                  **evidence)


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
