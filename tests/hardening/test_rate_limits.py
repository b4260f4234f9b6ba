"""Rate limits per route and per identity, in the shared cache: 429 with Retry-After, counted in
metrics; one client's excess never limits another (nor another organisation)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from tests.conftest import PASSWORD
from tests.sign_in import sign_in, signed_in_with_second_factor

pytestmark = pytest.mark.django_db


def _refused_count(rule: str, key: str) -> float:
    return REGISTRY.get_sample_value("bastion_rate_limited_total", {"rule": rule, "key": key}) or 0.0


def test_the_101st_sign_in_attempt_in_a_minute_from_one_address_gets_429(world):
    before = _refused_count("signin", "ip")
    client = Client(REMOTE_ADDR="203.0.113.7")
    for attempt in range(100):
        response = sign_in(client, f"nobody{attempt}@nowhere.example", "wrong password here")
        assert response.status_code == 200, attempt
    refused = sign_in(client, "nobody@nowhere.example", "wrong password here")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert _refused_count("signin", "ip") == before + 1
    # Another address, with the right password, is not held back by it.
    assert sign_in(Client(REMOTE_ADDR="198.51.100.8"), world.acme.users["editor"].email, PASSWORD).status_code == 302


def test_api_writes_are_limited_per_identity_not_for_everyone(world, settings):
    settings.BASTION_RATE_LIMITS = {"API_WRITE_IDENTITY": "3/m"}
    admin = Client()
    signed_in_with_second_factor(admin, world.acme.users["admin"])
    for n in range(3):
        created = admin.post("/api/v1/orgs/acme/workspaces", json.dumps({"name": f"W{n}"}),
                             content_type="application/json")
        assert created.status_code == 201
    limited = admin.post("/api/v1/orgs/acme/workspaces", json.dumps({"name": "W4"}), content_type="application/json")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert int(limited["Retry-After"]) >= 1
    assert admin.get("/api/v1/orgs/acme/workspaces").status_code == 200  # reads have their own budget
    outsider = Client()
    signed_in_with_second_factor(outsider, world.globex.users["admin"])
    assert outsider.post("/api/v1/orgs/globex/workspaces", json.dumps({"name": "G"}),
                         content_type="application/json").status_code == 201


def test_an_api_key_has_its_own_budget(world, settings):
    settings.BASTION_RATE_LIMITS = {"API_READ_IDENTITY": "2/m"}
    url = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/emissions"
    key = {"HTTP_AUTHORIZATION": f"Bearer {world.acme.api_token}"}
    client = Client()
    assert [client.get(url, **key).status_code for _ in range(3)] == [200, 200, 429]
    other = {"HTTP_AUTHORIZATION": f"Bearer {world.globex.api_token}"}
    assert client.get(f"/api/v1/orgs/globex/projects/{world.globex.project.id}/emissions", **other).status_code == 200


def test_a_limit_can_be_switched_off(world, settings):
    settings.BASTION_RATE_LIMITS = {"SIGNUP_IP": "off", "RESET_IP": "1/m"}
    client = Client()
    assert client.post("/accounts/password/reset/", {"email": "a@b.example"}).status_code == 302
    assert client.post("/accounts/password/reset/", {"email": "a@b.example"}).status_code == 429


def test_with_redis_the_counts_are_shared_by_every_app_server(world, settings):
    """With REDIS_URL the shared cache is Redis (the local server here, database 15): the counts
    live there, where every app server adds to the same ones."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    server = redis.Redis.from_url(url)
    server.flushdb()
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    settings.BASTION_RATE_LIMITS = {"RESET_IP": "2/m"}
    try:
        one_server, another = Client(REMOTE_ADDR="203.0.113.5"), Client(REMOTE_ADDR="203.0.113.5")
        assert one_server.post("/accounts/password/reset/", {"email": "a@b.example"}).status_code == 302
        assert another.post("/accounts/password/reset/", {"email": "a@b.example"}).status_code == 302
        assert one_server.post("/accounts/password/reset/", {"email": "a@b.example"}).status_code == 429
        assert any(b"bastion.reset.ip" in key or b"rl:" in key for key in server.keys("*"))
    finally:
        server.flushdb()
