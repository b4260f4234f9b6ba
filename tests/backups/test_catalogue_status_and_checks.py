"""The retention catalogue, the schedule, the status read by the status page, and the deploy check."""

from __future__ import annotations

import datetime

from django.core.checks import run_checks
from django.utils import timezone

from bastion.backups import pg_backups, retention, status
from bastion.backups.models import Backup, Drill

NOW = datetime.datetime(2026, 11, 30, 12, 0, tzinfo=datetime.UTC)


def test_grandfather_father_son_keeps_days_then_weeks_then_months():
    hourly = [(f"b{h}", NOW - datetime.timedelta(hours=h)) for h in range(0, 24 * 400, 6)]
    kept = retention.keep(hourly, NOW, retention.Policy(days=30, weeks=4, months=6))
    moments = dict(hourly)
    recent = {b for b, moment in hourly if NOW - moment <= datetime.timedelta(days=30)}
    assert recent <= kept  # point-in-time window: everything of the last 30 days
    older = sorted(moments[b] for b in kept - recent)
    # Beyond the window: one per month for the last 6 months (weeks 4 are inside the 30 days), nothing older.
    assert len({(m.year, m.month) for m in older}) == len(older) and len(older) <= 6
    assert min(older) > NOW - datetime.timedelta(days=6 * 31)
    assert retention.keep([("old", NOW - datetime.timedelta(days=999))], NOW, retention.Policy(1, 0, 0)) == {"old"}


def test_schedule_full_weekly_differential_daily_incremental_hourly():
    def made(kind, hours_ago):
        return Backup(type=kind, status="ok", finished_at=NOW - datetime.timedelta(hours=hours_ago))

    assert pg_backups.due_kind(NOW, []) == "full"
    assert pg_backups.due_kind(NOW, [made("full", 24 * 8)]) == "full"
    assert pg_backups.due_kind(NOW, [made("full", 30)]) == "diff"
    assert pg_backups.due_kind(NOW, [made("full", 30), made("diff", 2)]) == "incr"
    assert pg_backups.due_kind(NOW, [Backup(type="full", status="failed", finished_at=NOW)]) == "full"


def test_status_and_probe_report_the_last_backup_and_drill(db):
    assert status.latest().last_backup_at is None and not status.probe().ok
    now = timezone.now()
    Backup.objects.create(engine="sqlite", type="snapshot", repository="/r", started_at=now, finished_at=now,
                          status="ok", size=10)
    Drill.objects.create(started_at=now, finished_at=now, ok=True, rto_seconds=3.5, rpo_seconds=12.0, events_lost=2)
    state = status.latest()
    assert state.last_backup_ok and state.rto_seconds == 3.5 and state.as_dict()["events_lost"] == 2
    assert status.probe().ok
    Backup.objects.create(engine="sqlite", type="snapshot", repository="s3://x", started_at=now, finished_at=now,
                          status="failed", error="unreachable")
    probe = status.probe()
    assert not probe.ok and "s3://x" in probe.detail
    assert status.latest().last_good_backup_at == now


def test_deploy_check_names_what_is_missing(settings):
    settings.BASTION_BACKUP_URL = ""
    settings.BASTION_BACKUP_ENABLED = False
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert {"bastion.W601", "bastion.W602"} <= ids
    settings.BASTION_BACKUP_URL = "s3://offsite/bastion"
    settings.BASTION_BACKUP_ENABLED = True
    settings.BASTION_BACKUP_DIR = "/srv/backups"
    ids = {message.id for message in run_checks(include_deployment_checks=True)}
    assert not {i for i in ids if i.startswith("bastion.W60")} - {"bastion.W603"}
