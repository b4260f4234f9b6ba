"""With Redis, a verified API key is verified again from the shared cache in one round trip and no
database query — and a revocation (or expiry, or a wrong secret) still takes effect on the very
next request, on both databases."""

from __future__ import annotations

import dataclasses
import datetime
import json

import pytest
import redis
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bastion.crypto import api_key_auth, api_key_cache
from bastion.crypto.models import ApiKey
from bastion.tenancy import context
from bastion.tenancy.api_keys import revoke

URL = "redis://127.0.0.1:6379/14"


@pytest.fixture
def redis_cache(settings):
    server = redis.Redis.from_url(URL)
    server.flushdb()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": URL}}
    assert api_key_cache.enabled()
    yield server
    server.flushdb()


def _authenticate(token):
    with CaptureQueriesContext(connection) as queries:
        principal = api_key_auth.authenticate(token)
    return principal, len(queries.captured_queries)


def _key(world):
    with context.tenant_context(world.acme.organisation.id):
        return ApiKey.objects.get(public_id=world.acme.api_token[4:16])


def test_a_verified_key_is_verified_again_without_the_database(world, redis_cache):
    token = world.acme.api_token
    first, queried = _authenticate(token)
    assert first is not None and queried > 0
    again, queried = _authenticate(token)
    assert again == first and queried == 0
    # Nothing of the secret is cached: only the keyed hash the database holds too.
    cached = b"".join(redis_cache.get(k) or b"" for k in redis_cache.keys("*apikey:entry:*"))
    assert cached and token[17:57].encode() not in cached


def test_a_wrong_secret_for_a_cached_key_is_refused(world, redis_cache):
    token = world.acme.api_token
    assert api_key_auth.authenticate(token) is not None
    body = token[:-6][:-1] + ("A" if token[-7] != "A" else "B")
    from bastion.crypto.api_keys import checksum

    assert api_key_auth.authenticate(body + checksum(body)) is None


def test_revocation_takes_effect_on_the_next_request(world, redis_cache, django_capture_on_commit_callbacks):
    token = world.acme.api_token
    assert api_key_auth.authenticate(token) is not None
    assert _authenticate(token)[1] == 0  # cached
    with django_capture_on_commit_callbacks(execute=True), context.tenant_context(world.acme.organisation.id):
        revoke(_key(world))
    assert api_key_auth.authenticate(token) is None
    assert api_key_auth.authenticate(token) is None  # and the refusal is not cached as an acceptance


def test_an_entry_written_from_a_row_read_before_the_revocation_is_stale(
    world, redis_cache, django_capture_on_commit_callbacks
):
    """The race: a request reads the stamp and the (not yet revoked) row, the revocation commits,
    then the request writes its entry. The stamp it read is no longer the current one."""
    token = world.acme.api_token
    public_id = token[4:16]
    _, stamp_before = api_key_cache.read(public_id)
    key = _key(world)
    with django_capture_on_commit_callbacks(execute=True), context.tenant_context(world.acme.organisation.id):
        revoke(_key(world))
    principal = api_key_auth._principal(key)
    api_key_cache.write(
        public_id,
        stamp_before,
        key.secret_hash,
        key.expires_at,
        {**dataclasses.asdict(principal), "scopes": sorted(principal.scopes)},
    )
    assert api_key_auth.authenticate(token) is None


def test_an_expired_key_is_refused_from_the_cache_too(world, redis_cache):
    token = world.acme.api_token
    assert api_key_auth.authenticate(token) is not None
    entry, stamp = api_key_cache.read(token[4:16])
    entry["expires_at"] = (timezone.now() - datetime.timedelta(seconds=1)).timestamp()
    caches["default"].set(f"apikey:entry:{token[4:16]}", json.dumps(entry), 60)
    assert api_key_auth.authenticate(token) is None


def test_a_deleted_key_stops_at_once(world, redis_cache, django_capture_on_commit_callbacks):
    token = world.acme.api_token
    assert api_key_auth.authenticate(token) is not None
    with django_capture_on_commit_callbacks(execute=True), context.tenant_context(world.acme.organisation.id):
        _key(world).delete()
    assert api_key_auth.authenticate(token) is None
