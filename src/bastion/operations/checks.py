"""Deployment checks of how the platform runs: every configuration value that did not parse (noted
while the settings were read, ``bastion.config``), and the shared state several servers need:
PostgreSQL, and Redis for the job queue and the cache, whose keys must never be evicted."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from bastion.config import collected_problems


@register(Tags.security, deploy=True)
def check_configuration_values(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    return [Error(str(problem), hint=problem.hint, id=problem.check_id) for problem in collected_problems()]


@register(Tags.security, deploy=True)
def check_shared_state(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if settings.BASTION_SERVERS <= 1:
        return []
    problems: list[CheckMessage] = []
    if not settings.REDIS_URL:
        problems.append(Error(
            f"BASTION_SERVERS={settings.BASTION_SERVERS} but REDIS_URL is not set: each machine would keep its own "
            "job queue (periodic jobs run once per machine, their locks are not shared).",
            hint="Set REDIS_URL to a Redis every server and worker reaches (maxmemory-policy noeviction).",
            id="bastion.E501"))
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        problems.append(Error(
            f"BASTION_SERVERS={settings.BASTION_SERVERS} but the database is SQLite in one machine's data dir.",
            hint="Set DATABASE_URL (and DATABASE_ADMIN_URL) to a PostgreSQL server every machine reaches.",
            id="bastion.E502"))
    local = _machine_local_state()
    if local:
        problems.append(Warning(
            f"BASTION_SERVERS={settings.BASTION_SERVERS} but {', '.join(local)} on this machine only: what one "
            "machine writes there (a new organisation's key, an uploaded file, a signed checkpoint) the others "
            "cannot read.",
            hint="BASTION_KMS=aws-kms or pkcs11; BASTION_STORAGE_URL=s3://…; BASTION_AUDIT_ANCHOR_URL=s3://… "
                 "(docs/scaling.md, several app servers).", id="bastion.W505"))
    return problems


def _machine_local_state() -> list[str]:
    local = []
    if settings.BASTION_KMS == "local":
        local.append("the organisations' keys are key files (BASTION_KMS=local)")
    if not settings.BASTION_STORAGE_URL.startswith("s3://"):
        local.append("files are stored in a local directory (BASTION_STORAGE_URL)")
    if not settings.BASTION_AUDIT_ANCHOR_URL.startswith("s3://"):
        local.append("audit checkpoints are anchored in a local directory (BASTION_AUDIT_ANCHOR_URL)")
    return local


@register(Tags.security, deploy=True)
def check_redis_eviction(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The shared cache holds used TOTP codes and accepted SAML assertion ids: an evicted key would let
    one be replayed, so Redis must refuse writes when full rather than evict."""
    if not settings.REDIS_URL:
        return []
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
        try:
            policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
        finally:
            client.close()
    except redis.exceptions.ResponseError as exc:  # CONFIG disabled (managed Redis services rename it)
        return [Warning(f"Cannot read Redis's maxmemory-policy ({exc}), so cannot confirm it is noeviction.",
                        hint="Confirm with your Redis provider that maxmemory-policy is noeviction.",
                        id="bastion.W503")]
    except (redis.exceptions.RedisError, OSError) as exc:
        return [Error(f"Redis at REDIS_URL cannot be reached: {exc}",
                      hint="Start Redis or correct REDIS_URL (redis://host:port/db).", id="bastion.E504")]
    if policy != "noeviction":
        return [Error(f"Redis's maxmemory-policy is {policy!r}: when memory fills it evicts keys, among them used "
                      "TOTP codes and SAML assertion ids, which could then be replayed.",
                      hint="Set maxmemory-policy noeviction (redis-cli CONFIG SET maxmemory-policy noeviction, "
                           "and in redis.conf).", id="bastion.E503")]
    return []
