"""Probes, their history as state intervals, uptime over windows, maintenance, the silent-worker
rule and pruning after a year (with an injected clock)."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from bastion.operations import history, probes, summary
from bastion.operations.models import DEGRADED, DOWN, MAINTENANCE, OPERATIONAL, ComponentInterval, Maintenance
from bastion.operations.tasks import prune_status_history

pytestmark = pytest.mark.django_db

T0 = datetime.datetime(2026, 6, 1, 12, 0, tzinfo=datetime.UTC)


def _result(component: str, ok: bool = True) -> probes.ProbeResult:
    return probes.ProbeResult(component, ok, 0.01, "")


def test_every_component_probes_for_real_and_is_operational_here():
    run = history.run()
    assert [r.component for r in run.results] == [c.key for c in probes.components()]
    assert {"web", "api", "sign_in", "database", "cache", "job_workers", "object_storage", "kms", "email",
            "audit_verification"} <= set(run.states)
    assert set(run.states.values()) == {OPERATIONAL}, [r for r in run.results if run.states[r.component] != OPERATIONAL]
    assert ComponentInterval.objects.count() == len(run.results)
    # The two names another engineer's /metrics relies on, with the exact result type.
    assert isinstance(probes.probe_database(), probes.ProbeResult) and probes.probe_database().ok
    assert probes.probe_cache().ok and probes.probe_cache().component == "cache"


def test_a_failing_store_is_degraded(settings, tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store's directory should be")
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocked)}}}
    result = probes.probe_object_storage()
    assert not result.ok and result.detail
    run = history.run(clock=lambda: T0)
    assert run.states["object_storage"] == DEGRADED
    assert run.states["database"] == OPERATIONAL


def test_a_slow_probe_is_degraded(settings):
    component = probes.BUILT_IN[0]
    settings.BASTION_STATUS_SLOW_SECONDS = 2
    assert history.state_of(component, probes.ProbeResult("web", True, 2.5), set()) == DEGRADED
    assert history.state_of(component, probes.ProbeResult("web", True, 0.5), set()) == OPERATIONAL
    assert history.state_of(component, probes.ProbeResult("web", False, 0.5), set()) == DOWN


def test_a_probe_that_raises_never_escapes():
    def broken():
        raise RuntimeError("boom")

    result = probes._timed("x", broken)
    assert result == probes.ProbeResult("x", False, result.seconds, "RuntimeError: boom")


def test_intervals_extend_while_the_state_holds_and_split_when_it_changes():
    for minute in range(10):
        history.record("web", OPERATIONAL, _result("web"), T0 + datetime.timedelta(minutes=minute))
    assert ComponentInterval.objects.filter(component="web").count() == 1
    history.record("web", DOWN, _result("web", False), T0 + datetime.timedelta(minutes=10))
    history.record("web", DOWN, _result("web", False), T0 + datetime.timedelta(minutes=20))  # after a gap
    rows = list(ComponentInterval.objects.filter(component="web").order_by("started_at"))
    assert [(r.state, r.started_at, r.checked_at) for r in rows] == [
        (OPERATIONAL, T0, T0 + datetime.timedelta(minutes=10)),
        (DOWN, T0 + datetime.timedelta(minutes=10), T0 + datetime.timedelta(minutes=10)),
        (DOWN, T0 + datetime.timedelta(minutes=20), T0 + datetime.timedelta(minutes=20)),
    ]


def test_uptime_over_windows_counts_only_observed_time():
    # 9 days up, then 1 day down, minute by minute as the job would see it.
    start = T0 - datetime.timedelta(days=10)
    history.record("api", OPERATIONAL, _result("api"), start)
    ComponentInterval.objects.filter(component="api").update(checked_at=start + datetime.timedelta(days=9))
    history.record("api", DOWN, _result("api", False), start + datetime.timedelta(days=9))
    ComponentInterval.objects.filter(component="api", state=DOWN).update(checked_at=T0)
    intervals = history.intervals_since(T0 - datetime.timedelta(days=90))
    assert history.uptime(intervals, T0 - datetime.timedelta(hours=24), T0) == 0.0
    assert history.uptime(intervals, T0 - datetime.timedelta(days=7), T0) == pytest.approx(6 / 7)
    assert history.uptime(intervals, T0 - datetime.timedelta(days=90), T0) == pytest.approx(0.9)
    assert history.uptime([], T0 - datetime.timedelta(days=1), T0) is None
    data = summary.summary("http://status.example", now=T0)
    api = next(c for c in data["components"] if c["id"] == "api")
    assert api["status"] == "major_outage" and api["uptime"]["90d"] == pytest.approx(90.0)
    assert len(api["days"]) == history.BAR_DAYS and api["days"][-1]["status"] == DOWN
    assert api["days"][-5]["status"] == OPERATIONAL and api["days"][0]["status"] == "no_data"
    assert data["status"]["indicator"] == "major"


def test_maintenance_marks_its_components_and_is_left_out_of_uptime():
    now = timezone.now()
    Maintenance.objects.create(title="Database upgrade", components=["database"], starts_at=now - datetime.timedelta(
        minutes=5), ends_at=now + datetime.timedelta(hours=1), created_at=now, updated_at=now)
    run = history.run(clock=lambda: now)
    assert run.states["database"] == MAINTENANCE
    intervals = history.intervals_since(now - datetime.timedelta(days=1))
    assert history.uptime([i for i in intervals if i.component == "database"], now - datetime.timedelta(days=1),
                          now + datetime.timedelta(minutes=1)) is None


def test_silent_workers_show_as_down():
    history.run(clock=lambda: T0)
    later = summary.summary("http://status.example", now=T0 + datetime.timedelta(minutes=10))
    workers = next(c for c in later["components"] if c["id"] == "job_workers")
    assert workers["status"] == "major_outage"
    fresh = summary.summary("http://status.example", now=T0 + datetime.timedelta(minutes=1))
    assert next(c for c in fresh["components"] if c["id"] == "job_workers")["status"] == "operational"


def test_history_older_than_a_year_is_pruned_by_the_job(jobs_now):
    now = timezone.now()
    old = ComponentInterval.objects.create(component="web", state=OPERATIONAL, started_at=now - datetime.timedelta(
        days=400), checked_at=now - datetime.timedelta(days=366))
    kept = ComponentInterval.objects.create(component="web", state=DOWN, started_at=now - datetime.timedelta(
        days=366), checked_at=now - datetime.timedelta(days=364))
    run = history.prune(clock=lambda: now)
    assert run.intervals_deleted == 1
    assert list(ComponentInterval.objects.values_list("id", flat=True)) == [kept.id]
    assert not ComponentInterval.objects.filter(id=old.id).exists()
    # The daily job does the same with the real clock: a year from now, the kept row goes too.
    prune_status_history.call_local()
    assert ComponentInterval.objects.filter(id=kept.id).exists()
    assert history.prune(clock=lambda: now + datetime.timedelta(days=2)).intervals_deleted == 1


def test_other_apps_add_components_without_operations_importing_them(monkeypatch):
    import sys
    import types

    from django.apps import apps

    module = types.ModuleType("bastion.records.status_probes")
    module.STATUS_COMPONENTS = [("backups", "Backups", lambda: "last backup 2 h ago", DEGRADED)]
    monkeypatch.setitem(sys.modules, "bastion.records.status_probes", module)
    monkeypatch.setattr("bastion.operations.probes.module_has_submodule",
                        lambda package, name: package is apps.get_app_config("records").module)
    probes.components.cache_clear()
    try:
        keys = [c.key for c in probes.components()]
        assert keys[-1] == "backups"
        result = probes.components()[-1].probe()
        assert result == probes.ProbeResult("backups", True, result.seconds, "last backup 2 h ago")
    finally:
        probes.components.cache_clear()


def test_the_status_check_command_runs_the_probes(capsys):
    call_command("status_check")
    out = capsys.readouterr().out
    assert "object_storage" in out and "operational" in out


def test_the_kms_probe_round_trips_through_aws_kms_and_fails_when_it_is_gone(settings, moto_endpoint):
    from tests.live_server import free_port

    settings.BASTION_KMS, settings.BASTION_AWS_KMS_ENDPOINT_URL = "aws-kms", moto_endpoint
    result = probes.probe_kms()
    assert result.ok and result.detail == "aws-kms"
    settings.BASTION_AWS_KMS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert not probes.probe_kms().ok


def test_the_email_probe_says_noop_to_a_real_smtp_server(smtp, settings):
    from tests.live_server import free_port

    assert probes.probe_email().ok
    settings.EMAIL_PORT = free_port()  # nothing listens there
    failed = probes.probe_email()
    assert not failed.ok and "refused" in failed.detail.lower()
