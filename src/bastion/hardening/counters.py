"""Fixed-window hit counters for the rate limits: one atomic round trip per hit, whatever the cache.

- **Redis** (``REDIS_URL``): ``INCR`` and ``EXPIREAT`` in one ``MULTI``/``EXEC`` pipeline — one round
  trip, applied as one unit, so two app servers counting the same key never lose a hit.
- **The database cache** (the default): one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on the
  cache table. The row lock PostgreSQL (and SQLite's single writer) takes on the conflicting key
  makes the read-modify-write atomic; the window's end is part of the key, so a new window is a new
  row and the table's usual expiry sweep removes the old ones. The key has no ``:version:`` prefix,
  so it never meets a key the cache itself makes.
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

from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, router

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
    cache = cache if cache is not None else default_cache
    if isinstance(cache, RedisCache):
        count = _redis_hit(cache, windowed, end)
    elif isinstance(cache, DatabaseCache):
        count = _database_hit(cache, windowed, end)
    else:
        cache.add(windowed, 0, end - seconds + 1)
        count = cache.incr(windowed)
    return Usage(count=count, limit=limit, time_left=max(1, end - seconds))


def _redis_hit(cache: RedisCache, key: str, end: int) -> int:
    full_key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(full_key, write=True)
    pipeline = client.pipeline(transaction=True)
    pipeline.incr(full_key)
    pipeline.expireat(full_key, end + 1)
    count, _ = pipeline.execute()
    return int(count)


def _database_hit(cache: DatabaseCache, key: str, end: int) -> int:
    db = router.db_for_write(cache.cache_model_class)
    connection = connections[db]
    quote = connection.ops.quote_name
    table = quote(cache._table)  # type: ignore[attr-defined]  # django-stubs omit it
    expires = connection.ops.adapt_datetimefield_value(datetime.datetime.fromtimestamp(end + 1, tz=datetime.UTC))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({quote('cache_key')}, {quote('value')}, {quote('expires')}) VALUES (%s, '1', %s) "
            f"ON CONFLICT ({quote('cache_key')}) DO UPDATE "
            f"SET {quote('value')} = CAST(CAST({table}.{quote('value')} AS INTEGER) + 1 AS TEXT) "
            f"RETURNING {quote('value')}",
            [key, expires],
        )
        return int(cursor.fetchone()[0])
