"""A shared cache of verified API keys, so that a key is checked with one Redis round trip instead
of a database lookup under row-level security — without a cache that outlives a revocation.

Only with Redis (``REDIS_URL``): with the database cache a cache read costs what the lookup costs.
Nothing is kept in process memory (app servers stay stateless).

- Each key has a **version stamp** (``apikey:stamp:<public id>``, an integer that never expires).
  Every change to the key's row (revocation, deletion, erasure, a recorded use) bumps it once
  the change has committed.
- A verification reads the cached entry and the stamp in one ``MGET``. The entry holds the stamp
  read *before* the row was loaded, the row's keyed hash of the secret, its expiry and what the
  principal needs. It is used only when its stamp is the current one, the presented secret's
  HMAC matches in constant time, and the key has not expired; else the database decides and the
  entry is written again. A revocation committed after the row was read bumps the stamp, so the
  entry written from that row is already stale: revocation takes effect on the next request.
- Entries live at most ``TTL_SECONDS`` (a key's last recorded address is refreshed by then).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

TTL_SECONDS = 60


def enabled() -> bool:
    return isinstance(caches["default"], RedisCache)


def _entry_key(public_id: str) -> str:
    return f"apikey:entry:{public_id}"


def _stamp_key(public_id: str) -> str:
    return f"apikey:stamp:{public_id}"


def read(public_id: str) -> tuple[dict[str, Any] | None, int]:
    """The cached entry (or None) and the key's current stamp (0 if never bumped), in one round trip."""
    cache = caches["default"]
    found = cache.get_many([_entry_key(public_id), _stamp_key(public_id)])
    stamp = int(found.get(_stamp_key(public_id)) or 0)
    raw = found.get(_entry_key(public_id))
    entry = json.loads(raw) if raw else None
    return (entry if entry is not None and entry.get("stamp") == stamp else None), stamp


def write(public_id: str, stamp: int, secret_hash: str, expires_at: datetime.datetime, principal: dict[str, Any]) -> None:
    cache = caches["default"]
    entry = {"stamp": stamp, "secret_hash": secret_hash, "expires_at": expires_at.timestamp(), "principal": principal}
    cache.set(_entry_key(public_id), json.dumps(entry), TTL_SECONDS)


def bump(public_id: str) -> None:
    """Make every cached entry of the key stale, once the current transaction has committed."""
    if not enabled():
        return

    def bump_now() -> None:
        cache = caches["default"]
        key = _stamp_key(public_id)
        cache.add(key, 0, timeout=None)
        cache.incr(key)
        cache.delete(_entry_key(public_id))

    transaction.on_commit(bump_now, robust=False)
