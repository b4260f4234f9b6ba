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

The read is on every API request, so it skips Django's per-call work: one Redis client per cache
object (Django's backend builds a client, with its table of response callbacks, on every call),
the two key names made once per key, the values decoded with the backend's own serializer (so
entries stay readable and writable through ``caches["default"]``).
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


_CLIENT = "_bastion_api_key_client"
_NAMES = "_bastion_api_key_names"
MAX_NAMES = 10_000


def _reader(cache: Any) -> tuple[Any, Any, dict[str, list[str]]]:
    """(Redis client, serializer, made key names) kept on this cache object (Django makes one per thread)."""
    client = getattr(cache, _CLIENT, None)
    if client is None:
        client = cache._cache.get_client(write=True)  # the primary: a replica may lag behind a bump
        setattr(cache, _CLIENT, client)
        setattr(cache, _NAMES, {})
    return client, cache._cache._serializer, getattr(cache, _NAMES)


def read(public_id: str) -> tuple[dict[str, Any] | None, int]:
    """The cached entry (or None) and the key's current stamp (0 if never bumped), in one round trip."""
    cache = caches["default"]
    client, serializer, names = _reader(cache)
    made = names.get(public_id)
    if made is None:
        if len(names) >= MAX_NAMES:
            names.clear()
        made = names[public_id] = [cache.make_and_validate_key(_entry_key(public_id)),
                                   cache.make_and_validate_key(_stamp_key(public_id))]
    raw_entry, raw_stamp = client.mget(made)
    stamp = int(serializer.loads(raw_stamp)) if raw_stamp is not None else 0
    value = serializer.loads(raw_entry) if raw_entry is not None else None
    entry = json.loads(value) if value else None
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
