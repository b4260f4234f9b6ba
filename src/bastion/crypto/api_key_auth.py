"""Layer 1 for API keys: a presented token → the key's principal, or nothing.

With Redis, a key verified once is verified again from the shared cache (``api_key_cache``: one
round trip, the keyed hash compared in constant time, a version stamp every change to the row
bumps, so a revocation takes effect on the next request); else, and on any miss, the database.
"""

from __future__ import annotations

import dataclasses
import datetime
from dataclasses import dataclass

from django.utils import timezone

from bastion.crypto import api_key_cache, api_keys
from bastion.crypto.models import ApiKey

TOUCH_INTERVAL_SECONDS = 60


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """Who acts when a request carries an API key: the key, within its organisation."""

    key_id: str
    public_id: str
    name: str
    organisation_id: str
    scopes: frozenset[str]
    created_by_id: int | None
    last_used_ip: str = ""  # as stored before this request
    last_used_at: float | None = None  # as stored before this request (a POSIX time)

    is_authenticated = True
    is_active = True
    is_staff = False
    pk = None


def authenticate(token: str) -> ApiKeyPrincipal | None:
    if api_key_cache.enabled():
        return _authenticate_cached(token)
    key = api_keys.find(token, ApiKey.objects, visible_by="bastion.api_key_id")
    if key is None or key.revoked_at is not None or key.expires_at <= timezone.now():
        return None
    return _principal(key)


def _principal(key: ApiKey) -> ApiKeyPrincipal:
    return ApiKeyPrincipal(key_id=str(key.id), public_id=key.public_id, name=key.name,
                           organisation_id=str(key.organisation_id), scopes=frozenset(key.scopes),
                           created_by_id=key.created_by_id, last_used_ip=key.last_used_ip,
                           last_used_at=key.last_used_at.timestamp() if key.last_used_at else None)


def _authenticate_cached(token: str) -> ApiKeyPrincipal | None:
    parsed = api_keys.parse(token)
    if parsed is None:
        return None
    public_id, secret = parsed
    entry, stamp = api_key_cache.read(public_id)  # the stamp is read before the row: see api_key_cache
    if entry is not None:
        if not api_keys.secret_matches(secret, entry["secret_hash"]) or entry["expires_at"] <= timezone.now().timestamp():
            return None
        fields = entry["principal"]
        return ApiKeyPrincipal(**{**fields, "scopes": frozenset(fields["scopes"])})
    key = api_keys.find(token, ApiKey.objects, visible_by="bastion.api_key_id")
    if key is None or key.revoked_at is not None or key.expires_at <= timezone.now():
        return None
    principal = _principal(key)
    api_key_cache.write(public_id, stamp, key.secret_hash, key.expires_at,
                        {**dataclasses.asdict(principal), "scopes": sorted(principal.scopes)})
    return principal


def touch(principal: ApiKeyPrincipal, ip: str | None) -> bool:
    """Record last use (at most once a minute per key, to keep reads from becoming writes); whether it did."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=TOUCH_INTERVAL_SECONDS)
    if principal.last_used_at is not None and principal.last_used_at > cutoff.timestamp():
        return False  # touched less than a minute ago, as read with the key this request: no round trip
    touched = bool(ApiKey.objects.filter(id=principal.key_id)
                   .exclude(last_used_at__gt=cutoff)
                   .update(last_used_at=now, last_used_ip=ip or ""))
    if touched:
        api_key_cache.bump(principal.public_id)  # the cached last address is now stale
    return touched
