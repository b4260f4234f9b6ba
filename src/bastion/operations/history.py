"""Run the probes and keep their outcome as state intervals (``models.ComponentInterval``); uptime
per component over a window and the 90-day bar; pruning after a year."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bastion.operations import probes
from bastion.operations.models import DEGRADED, DOWN, MAINTENANCE, OPERATIONAL, ComponentInterval, Maintenance

# A component's newest interval is extended only when it was checked this recently; the job runs
# every minute, so a longer silence is a gap (no worker) and must not count as up.
STALE_AFTER = datetime.timedelta(minutes=3)
WINDOWS = {"24h": datetime.timedelta(hours=24), "7d": datetime.timedelta(days=7),
           "30d": datetime.timedelta(days=30), "90d": datetime.timedelta(days=90)}
BAR_DAYS = 90
SEVERITY = {OPERATIONAL: 0, MAINTENANCE: 1, DEGRADED: 2, DOWN: 3}

Clock = Callable[[], datetime.datetime]


@dataclass
class ProbeRun:
    at: datetime.datetime
    results: list[probes.ProbeResult] = field(default_factory=list)
    states: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)  # components whose state differs from the last run


@dataclass
class PruneRun:
    intervals_deleted: int
    before: datetime.datetime


def under_maintenance(now: datetime.datetime) -> set[str]:
    keys: set[str] = set()
    for maintenance in Maintenance.objects.filter(cancelled=False, starts_at__lte=now, ends_at__gt=now):
        keys.update(maintenance.components)
    return keys


def state_of(component: probes.Component, result: probes.ProbeResult, maintained: set[str]) -> str:
    if component.key in maintained:
        return MAINTENANCE
    if not result.ok:
        return component.failing_state
    return DEGRADED if result.seconds > settings.BASTION_STATUS_SLOW_SECONDS else OPERATIONAL


def run(*, clock: Clock = timezone.now, progress: Callable[[probes.ProbeResult], None] | None = None) -> ProbeRun:
    """Probe every component once and record the outcome at ``clock()``."""
    outcome = ProbeRun(at=clock())
    maintained = under_maintenance(outcome.at)
    for component in probes.components():
        result = component.probe()
        state = state_of(component, result, maintained)
        if record(component.key, state, result, clock()):  # the time the probe answered
            outcome.changed.append(component.key)
        outcome.results.append(result)
        outcome.states[component.key] = state
        if progress:
            progress(result)
    return outcome


def record(component: str, state: str, result: probes.ProbeResult, now: datetime.datetime) -> bool:
    """Extend the component's current interval, or start a new one; True when the state changed."""
    with transaction.atomic():
        latest = (ComponentInterval.objects.select_for_update().filter(component=component)
                  .order_by("-checked_at", "-started_at").first())
        if latest is not None and now < latest.checked_at:
            return False  # a slower run (the minute job and `status_check` at once) saw an older state: keep the newer
        continuous = latest is not None and now - latest.checked_at <= STALE_AFTER
        if continuous and latest is not None and latest.state == state:
            latest.checked_at, latest.detail, latest.seconds = now, result.detail, result.seconds
            latest.save(update_fields=["checked_at", "detail", "seconds"])
            return False
        if continuous and latest is not None:
            latest.checked_at = now  # the old state lasted until this check saw the new one
            latest.save(update_fields=["checked_at"])
        ComponentInterval.objects.create(component=component, state=state, started_at=now, checked_at=now,
                                         detail=result.detail, seconds=result.seconds)
        return latest is None or latest.state != state


class Span(NamedTuple):
    """An interval as the page reads it: plain tuples, not model instances (a fifth of the cost)."""

    component: str
    state: str
    started_at: datetime.datetime
    checked_at: datetime.datetime


def intervals_since(since: datetime.datetime) -> list[Span]:
    rows = (ComponentInterval.objects.filter(checked_at__gt=since).order_by("started_at")
            .values_list("component", "state", "started_at", "checked_at"))
    return [Span(*row) for row in rows]


def uptime(intervals: Iterable[Span | ComponentInterval], since: datetime.datetime, until: datetime.datetime) -> float | None:
    """Share of the observed time in [since, until) that the component was not down (degraded counts
    as up, maintenance is left out of both sides); None when nothing was observed."""
    up = observed = 0.0
    for interval in intervals:
        start, end = max(interval.started_at, since), min(interval.checked_at, until)
        if end <= start or interval.state == MAINTENANCE:
            continue
        seconds = (end - start).total_seconds()
        observed += seconds
        if interval.state != DOWN:
            up += seconds
    return None if observed == 0 else up / observed


@dataclass
class Day:
    date: datetime.date
    worst: str | None = None
    up: float = 0.0
    observed: float = 0.0

    @property
    def uptime(self) -> float | None:
        return None if self.observed == 0 else self.up / self.observed


def days(intervals: Iterable[Span | ComponentInterval], first_day: datetime.datetime, count: int,
         until: datetime.datetime) -> list[Day]:
    """Each of ``count`` days from ``first_day`` (midnight UTC): its worst state and uptime, in one
    pass over the intervals (each touches only the days it overlaps, usually one or two)."""
    result = [Day((first_day + datetime.timedelta(days=n)).date()) for n in range(count)]
    one_day = datetime.timedelta(days=1)
    for interval in intervals:
        start, end = max(interval.started_at, first_day), min(interval.checked_at, until)
        if interval.checked_at < first_day or interval.started_at >= until:
            continue
        index = int((start - first_day) // one_day)
        while 0 <= index < count:
            day_start = first_day + index * one_day
            day = result[index]
            if day.worst is None or SEVERITY[interval.state] > SEVERITY[day.worst]:
                day.worst = interval.state
            seconds = (min(end, day_start + one_day) - max(start, day_start)).total_seconds()
            if seconds > 0 and interval.state != MAINTENANCE:
                day.observed += seconds
                if interval.state != DOWN:
                    day.up += seconds
            if end <= day_start + one_day:
                break
            index += 1
    return result


def prune(*, clock: Clock = timezone.now, keep_days: int | None = None) -> PruneRun:
    """Delete the history that ended more than ``BASTION_STATUS_HISTORY_DAYS`` (365) days ago."""
    before = clock() - datetime.timedelta(days=keep_days or settings.BASTION_STATUS_HISTORY_DAYS)
    deleted, _ = ComponentInterval.objects.filter(checked_at__lt=before).delete()
    return PruneRun(intervals_deleted=deleted, before=before)
