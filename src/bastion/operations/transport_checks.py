"""Encrypted internal traffic (seed 004: "encrypts traffic on our internal networks between
application servers and our databases"): in production, a warning for each connection to another
machine that is plain or unauthenticated — PostgreSQL without ``sslmode=verify-full`` (the server's
certificate checked against the operator's CA, ``sslrootcert``, and its name against the host),
Redis over ``redis://`` instead of ``rediss://``, SMTP with neither STARTTLS nor TLS. A Unix socket
or a loopback address never crosses a network and is not warned about."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register

LOOPBACK = {"localhost", "127.0.0.1", "::1", ""}


def _local(host: str | None) -> bool:
    host = (host or "").strip("[]")
    return host in LOOPBACK or host.startswith("/") or host.startswith("127.")


def database_findings(database: dict | None = None) -> list[CheckMessage]:
    database = database if database is not None else settings.DATABASES["default"]
    if database["ENGINE"] != "django.db.backends.postgresql" or _local(database.get("HOST")):
        return []
    options = database.get("OPTIONS", {})
    if options.get("sslmode") == "verify-full" and options.get("sslrootcert"):
        return []
    return [
        Warning(
            f"PostgreSQL at {database.get('HOST')} is reached with sslmode={options.get('sslmode', 'prefer')}"
            f"{'' if options.get('sslrootcert') else ' and no sslrootcert'}: the traffic may be plain, or a machine "
            "in the middle may answer in the server's name.",
            hint="Add ?sslmode=verify-full&sslrootcert=/path/to/your-ca.pem to DATABASE_URL, DATABASE_ADMIN_URL "
            "(and DATABASE_REPLICA_URL) "
            "(the CA that signed the server's certificate; its name must match the host).",
            id="bastion.W510",
        )
    ]


def redis_findings() -> list[CheckMessage]:
    if not settings.REDIS_URL:
        return []
    url = urlsplit(settings.REDIS_URL)
    if url.scheme == "unix" or _local(url.hostname) or url.scheme == "rediss":
        return []
    return [
        Warning(
            f"Redis at {url.hostname} is reached over plain TCP (redis://): used TOTP codes, SAML assertion ids, rate "
            "limits and the job queue cross the network in clear.",
            hint="Serve Redis with TLS (tls-port) and use rediss://host:port/0?ssl_ca_certs=/path/to/your-ca.pem.",
            id="bastion.W511",
        )
    ]


def smtp_findings() -> list[CheckMessage]:
    if not settings.EMAIL_HOST or _local(settings.EMAIL_HOST) or settings.EMAIL_USE_TLS or settings.EMAIL_USE_SSL:
        return []
    return [
        Warning(
            f"SMTP to {settings.EMAIL_HOST} is plain: reset links and sign-in codes cross the network in clear.",
            hint="Set BASTION_SMTP_STARTTLS=true (port 587) or BASTION_SMTP_SSL=true (port 465).",
            id="bastion.W512",
        )
    ]


@register(Tags.security, deploy=True)
def check_internal_traffic(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    if not settings.BASTION_PRODUCTION:
        return []
    replica = settings.DATABASES.get("replica")  # DATABASE_REPLICA_URL: the same traffic, to another machine
    return [*database_findings(), *(database_findings(replica) if replica else []), *redis_findings(),
            *smtp_findings()]
