"""Once-only periodic jobs: two schedulers (two workers) reading the same minute enqueue each due task
once between them, on the shared Redis and on SQLite's queue file; the next minute is claimed afresh.
The same with two real ``bastion worker`` processes is in tests/deploy/test_two_servers.py."""

from __future__ import annotations

import datetime
import uuid

import pytest
from huey import crontab

from bastion.operations import periodic_claims


def _scheduler(huey_class, name: str, **connection):
    """A Huey like each worker's, with one minutely and one daily (at 04:07) periodic task."""
    instance = huey_class(name, **connection)

    @instance.periodic_task(crontab(minute="*"), name="minutely")
    def minutely():
        return 1

    @instance.periodic_task(crontab(hour="4", minute="7"), name="daily")
    def daily():
        return 1

    return instance


@pytest.fixture(params=["redis", "sqlite"])
def two_workers(request, tmp_path):
    name = f"claims-test-{uuid.uuid4().hex}"
    if request.param == "redis":  # the machine's Redis (scripts/test starts it), database 15
        connection = {"url": "redis://127.0.0.1:6379/15"}
        huey_class = periodic_claims.RedisHuey
    else:
        connection = {"filename": str(tmp_path / "jobs.sqlite3")}
        huey_class = periodic_claims.SqliteHuey
    first, second = _scheduler(huey_class, name, **connection), _scheduler(huey_class, name, **connection)
    yield first, second
    if request.param == "redis":
        for key in first.storage.conn.scan_iter(f"{name}.*"):
            first.storage.conn.delete(key)


def _names(tasks) -> list[str]:
    return sorted(type(task).__name__ for task in tasks)


def test_each_due_task_is_enqueued_by_one_scheduler_per_minute(two_workers):
    first, second = two_workers
    at_0407 = datetime.datetime(2026, 12, 1, 4, 7, 12)
    later_in_that_minute = at_0407.replace(second=48)  # the other worker's tick, 36 s later
    assert _names(first.read_periodic(at_0407)) == ["daily", "minutely"]
    assert _names(second.read_periodic(later_in_that_minute)) == []
    assert _names(first.read_periodic(at_0407)) == []  # nor twice by the same one
    next_minute = at_0407 + datetime.timedelta(minutes=1)
    assert _names(second.read_periodic(next_minute)) == ["minutely"]  # the next slot is anyone's
    assert _names(first.read_periodic(next_minute)) == []
    assert _names(first.read_periodic(at_0407 + datetime.timedelta(days=1))) == ["daily", "minutely"]


def test_sqlite_claims_older_than_two_days_are_pruned(tmp_path):
    scheduler = _scheduler(periodic_claims.SqliteHuey, "prune-test", filename=str(tmp_path / "jobs.sqlite3"))
    start = datetime.datetime(2026, 12, 1, 4, 0)
    for minutes in range(0, 4 * 24 * 60, 240):  # four days of claims, one every 4 h
        scheduler.read_periodic(start + datetime.timedelta(minutes=minutes))
    keys = [row[0] for row in scheduler.storage.sql("select key from kv", results=True)]
    assert keys and len(keys) <= 13, keys  # at most the last two days' (12) and the current one
    assert min(keys) >= periodic_claims.PREFIX + "2026-12-03", keys
