"""Live checks of the components the platform depends on, timed: read at each scrape of /metrics."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.db import DatabaseError, connection


@dataclass(frozen=True)
class ProbeResult:
    component: str
    ok: bool
    seconds: float
    detail: str = ""


def probe_database() -> ProbeResult:
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return ProbeResult("database", False, time.perf_counter() - started, type(exc).__name__)
    return ProbeResult("database", True, time.perf_counter() - started)


def probe_cache() -> ProbeResult:
    """A write, a read back and a delete of a random value under a key of its own (scrapes may overlap)."""
    started = time.perf_counter()
    value = secrets.token_hex(8)
    key = f"bastion:probe:{value}"
    try:
        cache.set(key, value, timeout=60)
        ok = cache.get(key) == value
        cache.delete(key)
    except Exception as exc:  # any backend's failure (database, Redis) is the probe's answer, not an error
        return ProbeResult("cache", False, time.perf_counter() - started, type(exc).__name__)
    return ProbeResult("cache", ok, time.perf_counter() - started, "" if ok else "read back a different value")
