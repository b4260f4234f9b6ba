"""Layer 1 for API keys: a presented token → the key's principal, or nothing."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from bastion.crypto import api_keys
from bastion.crypto.models import ApiKey
from bastion.db.rls import set_setting

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

    is_authenticated = True
    is_active = True
    is_staff = False
    pk = None


def authenticate(token: str) -> ApiKeyPrincipal | None:
    parsed = api_keys.parse(token)
    if parsed is None:
        return None
    public_id, secret = parsed
    set_setting("bastion.api_key_id", public_id)  # lets row-level security show this one key
    key = ApiKey.objects.filter(public_id=public_id).first()
    set_setting("bastion.api_key_id", "")
    if key is None:
        api_keys.hash_secret(secret)  # same work as a real check: no timing difference to probe
        return None
    if not api_keys.secret_matches(secret, key.secret_hash):
        return None
    if key.revoked_at is not None or key.expires_at <= timezone.now():
        return None
    return ApiKeyPrincipal(key_id=str(key.id), public_id=key.public_id, name=key.name,
                           organisation_id=str(key.organisation_id), scopes=frozenset(key.scopes),
                           created_by_id=key.created_by_id)


def touch(principal: ApiKeyPrincipal, ip: str | None) -> None:
    """Record last use (at most once a minute per key, to keep reads from becoming writes)."""
    now = timezone.now()
    cutoff = now - datetime.timedelta(seconds=TOUCH_INTERVAL_SECONDS)
    (ApiKey.objects.filter(id=principal.key_id)
     .exclude(last_used_at__gt=cutoff)
     .update(last_used_at=now, last_used_ip=ip or ""))
