"""Layer 1 for API keys: a presented token → the key's principal, or nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from bastion.crypto import api_keys
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

    is_authenticated = True
    is_active = True
    is_staff = False
    pk = None


def authenticate(token: str) -> ApiKeyPrincipal | None:
    key = api_keys.find(token, ApiKey.objects, visible_by="bastion.api_key_id")
    if key is None or key.revoked_at is not None or key.expires_at <= timezone.now():
        return None
    return ApiKeyPrincipal(key_id=str(key.id), public_id=key.public_id, name=key.name,
                           organisation_id=str(key.organisation_id), scopes=frozenset(key.scopes),
                           created_by_id=key.created_by_id, last_used_ip=key.last_used_ip)


def touch(principal: ApiKeyPrincipal, ip: str | None) -> bool:
    """Record last use (at most once a minute per key, to keep reads from becoming writes); whether it did."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=TOUCH_INTERVAL_SECONDS)
    return bool(ApiKey.objects.filter(id=principal.key_id)
                .exclude(last_used_at__gt=cutoff)
                .update(last_used_at=now, last_used_ip=ip or ""))
