"""`config check` in production warns about each plain connection to another machine: PostgreSQL
without verify-full and a CA (W510), Redis without TLS (W511), SMTP with neither STARTTLS nor TLS
(W512); loopback and Unix sockets cross no network; outside production nothing is said."""

from __future__ import annotations

from bastion.operations import transport_checks

DATABASE: dict = {}


def _ids(settings) -> list[str]:
    """The production findings, with the database given here (the suite's own connection untouched)."""
    if not settings.BASTION_PRODUCTION:
        return [finding.id for finding in transport_checks.check_internal_traffic()]
    found = transport_checks.database_findings(DATABASE)
    found += transport_checks.redis_findings() + transport_checks.smtp_findings()
    return [finding.id for finding in found]


def _postgres(host: str, **options: str) -> None:
    DATABASE.clear()
    DATABASE.update(ENGINE="django.db.backends.postgresql", HOST=host, OPTIONS=options)


def test_plain_connections_to_other_machines_are_warned_about_in_production(settings):
    settings.BASTION_PRODUCTION = True
    _postgres("db.internal", sslmode="require")
    settings.REDIS_URL = "redis://cache.internal:6379/0"
    settings.EMAIL_HOST, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "smtp.internal", False, False
    assert _ids(settings) == ["bastion.W510", "bastion.W511", "bastion.W512"]

    _postgres("db.internal", sslmode="verify-full", sslrootcert="/etc/bastion/ca.pem")
    settings.REDIS_URL = "rediss://cache.internal:6380/0?ssl_ca_certs=/etc/bastion/ca.pem"
    settings.EMAIL_USE_TLS = True
    assert _ids(settings) == []

    _postgres("db.internal", sslmode="verify-full")  # no CA named: the system's store
    assert _ids(settings) == ["bastion.W510"]


def test_loopback_and_sockets_and_non_production_are_not_warned_about(settings):
    settings.BASTION_PRODUCTION = True
    _postgres("/var/run/postgresql")
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    settings.EMAIL_HOST, settings.EMAIL_USE_TLS, settings.EMAIL_USE_SSL = "localhost", False, False
    assert _ids(settings) == []
    settings.BASTION_PRODUCTION = False
    _postgres("db.internal")
    settings.REDIS_URL = "redis://cache.internal:6379/0"
    assert _ids(settings) == []
