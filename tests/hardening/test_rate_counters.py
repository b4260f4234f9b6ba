"""The rate-limit counter is one atomic round trip: hits counted at once from many threads (each
with its own database connection, as app servers have) are never lost, in the database cache on
both databases and in Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.core.cache import caches
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from bastion.hardening import counters
from tests.audit.db_tampering import committed

NOW = 1_900_000_030.0


def _hammer(key: str, cache, threads: int = 8, hits: int = 25) -> list[int]:
    seen: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def worker():
        try:
            start.wait()
            for _ in range(hits):
                usage = counters.hit(key, "1000000/m", NOW, cache)
                with lock:
                    seen.append(usage.count)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return seen


@pytest.mark.postgres_only  # SQLite has one writer at a time (and its in-memory test database refuses threads)
def test_the_database_counter_loses_no_hit_under_concurrency(db):
    key = f"test.concurrent:{uuid.uuid4().hex}"  # the threads commit: a key of this run only
    try:
        seen = _hammer(key, caches["default"])
        # Every hit got its own count: no two threads read the same value before writing it back.
        assert sorted(seen) == list(range(1, 8 * 25 + 1))
    finally:

        def clean_up():
            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM hardening_ratecounter WHERE key LIKE %s", [f"rl:{key}:%"])

        committed(clean_up)


@pytest.mark.django_db
def test_one_hit_is_one_statement_and_the_limit_and_window_are_reported(monkeypatch):
    monkeypatch.setattr(counters, "_last_sweep", NOW)  # (the sweep of ended windows, once a minute, is another)
    with CaptureQueriesContext(connection) as queries:
        first = counters.hit("test.single:one", "2/m", NOW, caches["default"])
    assert len(queries.captured_queries) == 1
    assert (first.count, first.limit, first.should_limit) == (1, 2, False)
    assert 1 <= first.time_left <= 60
    assert counters.hit("test.single:one", "2/m", NOW, caches["default"]).count == 2
    third = counters.hit("test.single:one", "2/m", NOW, caches["default"])
    assert third.should_limit
    assert counters.hit("test.single:other", "2/m", NOW, caches["default"]).count == 1  # another key, its own count
    # The next window starts again.
    assert counters.hit("test.single:one", "2/m", NOW + 60, caches["default"]).count == 1


def test_the_redis_counter_loses_no_hit_under_concurrency(settings):
    import redis

    url = "redis://127.0.0.1:6379/15"
    server = redis.Redis.from_url(url)
    server.flushdb()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    try:
        seen = _hammer("test.concurrent:redis", caches["default"])
        assert sorted(seen) == list(range(1, 8 * 25 + 1))
        (key,) = server.keys("*rl:test.concurrent:redis:*")
        end = int(key.rsplit(b":", 1)[1])
        assert NOW < end <= NOW + 60
        assert abs(server.ttl(key) - (end + 1 - time.time())) <= 2  # it expires with its window
    finally:
        server.flushdb()


@pytest.mark.parametrize("rate", ["100", "1/x", "/m", "m"])
def test_a_malformed_rate_is_refused(rate):
    with pytest.raises(ValueError):
        counters.split_rate(rate)


@pytest.mark.postgres_only
def test_on_postgresql_the_counters_skip_the_write_ahead_log(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE relname = 'hardening_ratecounter'")
        assert cursor.fetchone() == ("u",)


@pytest.mark.django_db
def test_ended_windows_are_swept_when_a_new_one_starts(monkeypatch):
    from bastion.hardening.models import RateCounter

    monkeypatch.setattr(counters, "_last_sweep", 0.0)
    counters.hit("test.sweep:old", "5/m", NOW, caches["default"])
    assert RateCounter.objects.filter(key__startswith="rl:test.sweep:old:").count() == 1
    counters.hit("test.sweep:new", "5/m", NOW + 3600, caches["default"])
    assert not RateCounter.objects.filter(key__startswith="rl:test.sweep:old:").exists()
    assert RateCounter.objects.filter(key__startswith="rl:test.sweep:new:").count() == 1


@pytest.mark.django_db
def test_the_default_cache_is_counted_in_one_statement(monkeypatch):
    """Without an explicit cache the configured one is used, through its own fast path (not the
    generic add-then-incr)."""
    monkeypatch.setattr(counters, "_last_sweep", NOW)
    with CaptureQueriesContext(connection) as queries:
        assert counters.hit("test.default:one", "2/m", NOW).count == 1
    assert len(queries.captured_queries) == 1 and "ON CONFLICT" in queries.captured_queries[0]["sql"]
