"""What the status page, its JSON and its feed show: the current state of each component, uptime,
the 90-day bar, open incidents and maintenance. The JSON is shaped like Atlassian Statuspage's
``/api/v2/summary.json``, so existing status widgets and monitors can read it.

Only states, times and what staff wrote are public: probe details (error messages, hosts) are not.
"""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.core.cache import cache
from django.utils import timezone

from bastion.backups import status as backup_status
from bastion.operations import history, probes
from bastion.operations.models import DEGRADED, DOWN, MAINTENANCE, OPERATIONAL, Incident, Maintenance

CACHE_KEY = "bastion:status:summary"
CACHE_SECONDS = 15  # the public page is open to anyone: at most one computation per 15 s however often it is asked
STATUSPAGE_STATES = {OPERATIONAL: "operational", DEGRADED: "degraded_performance", DOWN: "major_outage",
                     MAINTENANCE: "under_maintenance"}
LABELS = {OPERATIONAL: "Operational", DEGRADED: "Degraded", DOWN: "Outage", MAINTENANCE: "Under maintenance"}
IMPACT_RANK = {"none": 0, "minor": 1, "major": 2, "critical": 3}
DESCRIPTIONS = {"none": "All Systems Operational", "minor": "Minor Service Outage",
                "major": "Partial System Outage", "critical": "Major System Outage",
                "maintenance": "Service Under Maintenance"}


def _iso(moment: datetime.datetime | None) -> str | None:
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z") if moment else None


def forget() -> None:
    """Drop the cached summary (after a probe run, or when staff change an incident)."""
    cache.delete(CACHE_KEY)


def summary(base_url: str, *, now: datetime.datetime | None = None) -> dict:
    if now is None:
        cached = cache.get(CACHE_KEY)
        if cached is not None and cached["page"]["url"] == base_url:
            return cached
    computed = _compute(base_url, now or timezone.now())
    if now is None:
        cache.set(CACHE_KEY, computed, CACHE_SECONDS)
    return computed


def _compute(base_url: str, now: datetime.datetime) -> dict:
    by_component: dict[str, list[history.Span]] = defaultdict(list)
    for interval in history.intervals_since(now - datetime.timedelta(days=history.BAR_DAYS)):
        by_component[interval.component].append(interval)
    newest_check = max((i.checked_at for intervals in by_component.values() for i in intervals), default=None)
    workers_silent = newest_check is None or now - newest_check > history.STALE_AFTER
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    components = []
    for position, component in enumerate(probes.components(), start=1):
        intervals = by_component.get(component.key, [])
        latest = max(intervals, key=lambda i: (i.checked_at, i.started_at), default=None)
        state = latest.state if latest else OPERATIONAL
        updated = latest.checked_at if latest else None
        if component.key == "job_workers" and workers_silent:
            state, updated = DOWN, newest_check  # nothing has run the minute job lately
        first_day = today - datetime.timedelta(days=history.BAR_DAYS - 1)
        bar = [{"date": day.date.isoformat(), "status": day.worst or "no_data",
                "uptime": None if day.uptime is None else round(day.uptime * 100, 3)}
               for day in history.days(intervals, first_day, history.BAR_DAYS, now)]
        uptime = {name: history.uptime(intervals, now - span, now) for name, span in history.WINDOWS.items()}
        components.append({
            "id": component.key, "name": component.name, "status": STATUSPAGE_STATES[state], "state": state,
            "label": LABELS[state], "position": position, "description": None, "group": False,
            "updated_at": _iso(updated),
            "uptime": {name: None if value is None else round(value * 100, 3) for name, value in uptime.items()},
            "days": bar,
        })
    open_incidents = [_incident(i, base_url) for i in
                      Incident.objects.exclude(status="resolved").prefetch_related("updates")]
    maintenances = [_maintenance(m, now, base_url) for m in
                    Maintenance.objects.filter(cancelled=False, ends_at__gt=now).order_by("starts_at")]
    return {
        "page": {"id": "bastion", "name": "Bastion", "url": base_url.rstrip("/") + "/status",
                 "time_zone": "Etc/UTC", "updated_at": _iso(newest_check or now)},
        "status": _indicator(components, open_incidents, maintenances),
        "components": components,
        "incidents": open_incidents,
        "scheduled_maintenances": maintenances,
        "backups": _backups(),
    }


def _backups() -> dict:
    """The last restore drill's measured figures (RTO, RPO, audit events beyond the restore point) and
    when the newest good backup was taken; where backups are kept is not public."""
    state = backup_status.latest()
    return {"last_good_backup_at": _iso(state.last_good_backup_at), "last_drill_at": _iso(state.last_drill_at),
            "last_drill_ok": state.last_drill_ok, "rto_seconds": state.rto_seconds, "rpo_seconds": state.rpo_seconds,
            "events_lost": state.events_lost}


def _indicator(components: list[dict], incidents: list[dict], maintenances: list[dict]) -> dict:
    states = {c["state"] for c in components}
    rank = 2 if DOWN in states else 1 if DEGRADED in states else 0
    rank = max([rank, *(IMPACT_RANK[i["impact"]] for i in incidents)])
    indicator = ["none", "minor", "major", "critical"][rank]
    if indicator == "none" and any(m["status"] == "in_progress" for m in maintenances):
        indicator = "maintenance"
    return {"indicator": indicator, "description": DESCRIPTIONS[indicator]}


def _incident(incident: Incident, base_url: str) -> dict:
    return {
        "id": str(incident.id), "name": incident.title, "status": incident.status, "impact": incident.impact,
        "created_at": _iso(incident.created_at), "updated_at": _iso(incident.updated_at),
        "resolved_at": _iso(incident.resolved_at),
        "shortlink": f"{base_url.rstrip('/')}/status/incidents/{incident.id}",
        "components": list(incident.components),
        "incident_updates": [{"id": str(u.id), "status": u.status, "body": u.body, "created_at": _iso(u.created_at),
                              "updated_at": _iso(u.created_at), "display_at": _iso(u.created_at)}
                             for u in incident.updates.all()],
    }


def _maintenance(maintenance: Maintenance, now: datetime.datetime, base_url: str) -> dict:
    return {
        "id": str(maintenance.id), "name": maintenance.title, "status": maintenance.status_at(now),
        "impact": "maintenance", "body": maintenance.body, "components": list(maintenance.components),
        "scheduled_for": _iso(maintenance.starts_at), "scheduled_until": _iso(maintenance.ends_at),
        "created_at": _iso(maintenance.created_at), "updated_at": _iso(maintenance.updated_at),
        "shortlink": f"{base_url.rstrip('/')}/status#maintenance-{maintenance.id}",
    }


def recent_incidents(days: int = 90) -> list[Incident]:
    since = timezone.now() - datetime.timedelta(days=days)
    return list(Incident.objects.filter(created_at__gte=since).prefetch_related("updates")[:50])
