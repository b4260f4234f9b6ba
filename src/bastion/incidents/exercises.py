"""Tabletop exercises: incidents marked ``exercise``, run through the whole flow on synthetic data.
The plan is exercised twice a year (seed 000): the last two exercises are evidence for the trust
page, and the platform's operators are reminded when none has run for
``BASTION_INCIDENT_EXERCISE_DAYS`` (183)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from bastion.audit import alerts
from bastion.incidents.models import Incident


@dataclass(frozen=True)
class ExerciseOutcome:
    reference: str
    title: str
    held_on: datetime.date
    phase: str  # where it got to
    reviewed: bool
    follow_ups: int
    outcome: str  # the review's first line, or what is missing


def recent(count: int = 2) -> list[ExerciseOutcome]:
    outcomes = []
    for incident in Incident.objects.filter(exercise=True).order_by("-declared_at")[:count]:
        first_line = incident.review.strip().splitlines()[0] if incident.review.strip() else ""
        outcomes.append(ExerciseOutcome(
            incident.reference, incident.title, incident.declared_at.date(), incident.phase,
            incident.reviewed_at is not None, incident.follow_ups.count(),
            first_line or "not reviewed yet"))
    return outcomes


def overdue(*, clock: Callable[[], datetime.datetime] = timezone.now) -> bool:
    since = clock() - datetime.timedelta(days=settings.BASTION_INCIDENT_EXERCISE_DAYS)
    return not Incident.objects.filter(exercise=True, declared_at__gte=since).exists()


def remind_if_overdue(*, clock: Callable[[], datetime.datetime] = timezone.now) -> bool:
    """Weekly: tell the operators (email, webhook) while no exercise has run within the period."""
    if not overdue(clock=clock):
        return False
    last = Incident.objects.filter(exercise=True).order_by("-declared_at").first()
    when = f"the last was {last.reference} on {last.declared_at:%Y-%m-%d}" if last else "none has ever run"
    alerts.notify(f"[Bastion] no incident-response exercise for {settings.BASTION_INCIDENT_EXERCISE_DAYS} days",
                  f"The incident response plan is exercised twice a year; {when}. Declare an exercise "
                  "(a tabletop on synthetic data) from the staff console.",
                  {"event": "incident.exercise.overdue", "last": last.reference if last else None})
    return True
