"""Fixed-window hit counters for the rate limits: one atomic round trip per hit, whatever the cache.

- **Redis** (``REDIS_URL``): ``INCR`` and ``EXPIREAT`` in one ``MULTI``/``EXEC`` pipeline — one round
  trip, applied as one unit, so two app servers counting the same key never lose a hit.
- **The database** (when the cache is the database cache, the default): one ``INSERT … ON CONFLICT
  DO UPDATE … RETURNING`` on ``RateCounter``. The row lock PostgreSQL (and SQLite's single writer)
  takes on the conflicting key makes the read-modify-write atomic; the window's end is part of the
  key, so a new window is a new row. The table is UNLOGGED on PostgreSQL, so the statement's commit
  does not wait for a WAL flush (the old cache-table counter did, twice per request). Expired rows
  are swept when a new window starts, at most once a minute per process.
- Any other cache (local memory in a one-process set-up): ``add`` then ``incr``, which that
  backend does under its lock.

Windows are staggered per key as django-ratelimit's were (its ``_get_window``), so every counter does
not start again in the same second.
"""

from __future__ import annotations

import datetime
import re
import zlib
from dataclasses import dataclass

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router

from bastion.hardening.models import RateCounter

SWEEP_SECONDS = 60
_last_sweep = 0.0

RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Usage:
    count: int  # hits in this window, this one included
    limit: int
    time_left: int  # seconds until the window ends

    @property
    def should_limit(self) -> bool:
        return self.count > self.limit


def split_rate(rate: str) -> tuple[int, int]:
    """``"100/m"`` → (100, 60); ``"5/15m"`` → (5, 900)."""
    match = RATE.match(rate.strip().lower())
    if match is None:
        raise ValueError(f"not a rate: {rate!r} (e.g. 100/m, 10/h, 5/15m)")
    count, multiple, unit = match.groups()
    return int(count), PERIODS[unit] * (int(multiple) if multiple else 1)


def window_end(key: str, period: int, now: int) -> int:
    """The end of the current window for ``key``: aligned on the epoch, shifted by a per-key jitter."""
    if period == 1:
        return now + 1
    end = now - (now % period) + zlib.crc32(key.encode()) % period
    return end + period if end <= now else end


def hit(key: str, rate: str, now: float, cache: BaseCache | None = None) -> Usage:
    """Count one hit on ``key`` in its current window and return the usage, in one round trip."""
    limit, period = split_rate(rate)
    seconds = int(now)
    end = window_end(key, period, seconds)
    windowed = f"rl:{key}:{end}"
    cache = cache if cache is not None else caches["default"]  # (not the proxy: isinstance must see the backend)
    if isinstance(cache, RedisCache):
        count = _redis_hit(cache, windowed, end)
    elif isinstance(cache, DatabaseCache):
        count = _database_hit(cache, windowed, end, seconds)
    else:
        cache.add(windowed, 0, end - seconds + 1)
        count = cache.incr(windowed)
    return Usage(count=count, limit=limit, time_left=max(1, end - seconds))


def _redis_hit(cache: RedisCache, key: str, end: int) -> int:
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)  # type: ignore[attr-defined]  # the backend's own client: one MULTI/EXEC
    pipeline = client.pipeline(transaction=True)
    pipeline.incr(full_key)
    pipeline.expireat(full_key, end + 1)
    count, _ = pipeline.execute()
    return int(count)


def _database_hit(cache: DatabaseCache, key: str, end: int, now: int) -> int:
    global _last_sweep
    connection = connections[router.db_for_write(RateCounter)]
    quote = connection.ops.quote_name
    table = quote(RateCounter._meta.db_table)
    adapt = connection.ops.adapt_datetimefield_value
    expires = adapt(datetime.datetime.fromtimestamp(end + 1, tz=datetime.UTC))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('key')}, {quote('count')}, {quote('expires')}) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({quote('key')}) DO UPDATE SET {quote('count')} = {table}.{quote('count')} + 1 "
            f"RETURNING {quote('count')}",
            [key, expires],
        )
        count = int(cursor.fetchone()[0])
        if count == 1 and abs(now - _last_sweep) >= SWEEP_SECONDS:  # a new window: time to drop the ended ones
            _last_sweep = now
            cursor.execute(
                f"DELETE FROM {table} WHERE {quote('expires')} < %s",
                [adapt(datetime.datetime.fromtimestamp(now, tz=datetime.UTC))],
            )
    return count
