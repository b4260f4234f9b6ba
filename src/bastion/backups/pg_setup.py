"""``bastion backup setup`` on PostgreSQL: write pgBackRest's configuration (both repositories
encrypted, the passphrase kept wrapped by the KMS provider), create the stanza, make sure the
cluster archives its WAL through pgBackRest (``archive_command``, ``archive_timeout`` bounding the
RPO) — applied with ``ALTER SYSTEM`` when asked and allowed, else the exact lines to set — and end
with ``pgbackrest check``, which proves a WAL segment reaches every repository."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from django.conf import settings

from bastion.backups import keys
from bastion.backups.pgbackrest import (
    Cluster,
    LocalRepo,
    PgBackRest,
    PgBackRestError,
    S3Repo,
    archive_command,
    write_config,
)

ARCHIVE_TIMEOUT = 60  # seconds: a quiet cluster still ships its WAL at least each minute (the RPO bound)


class SetupRefused(Exception):
    """Bad usage: one line (exit 2)."""


@dataclass
class Step:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class SetupResult:
    config: Path
    steps: list[Step] = field(default_factory=list)
    guidance: list[str] = field(default_factory=list)  # what an operator must still do, exactly

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps) and not self.guidance


def offsite_repo(url: str) -> S3Repo | None:
    """``BASTION_BACKUP_URL``'s s3://bucket[/prefix]?endpoint_url=https://host[:port]&region=… as
    pgBackRest's repo2 (credentials from the AWS environment; pgBackRest speaks only HTTPS)."""
    parts = urlsplit(url)
    if parts.scheme != "s3":
        return None
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    endpoint = urlsplit(query.get("endpoint_url") or f"https://s3.{query.get('region', 'us-east-1')}.amazonaws.com")
    if endpoint.scheme != "https":
        raise SetupRefused("BASTION_BACKUP_URL: pgBackRest needs an https:// endpoint_url for S3")
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", "")
    if not key or not secret:
        raise SetupRefused("BASTION_BACKUP_URL is on S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for pgBackRest")
    ca = os.environ.get("AWS_CA_BUNDLE")
    return S3Repo(bucket=parts.netloc, endpoint=endpoint.hostname or "", port=endpoint.port or 443,
                  region=query.get("region", "us-east-1"), key=key, secret=secret,
                  ca_file=Path(ca) if ca else None, path=parts.path.rstrip("/") or "/pgbackrest")


def setup(*, data_dir: Path | None = None, apply: bool = False, connect=None) -> SetupResult:
    """``connect()``: a psycopg connection to the live cluster (default: ``DATABASE_URL``'s)."""
    import psycopg

    if not settings.BASTION_PGBACKREST_CONFIG:
        raise SetupRefused("set BASTION_PGBACKREST_CONFIG to where pgBackRest's configuration is to be written")
    database = settings.DATABASES["default"]
    config, stanza = Path(settings.BASTION_PGBACKREST_CONFIG), settings.BASTION_PGBACKREST_STANZA
    connect = connect or (lambda: psycopg.connect(host=database["HOST"] or None, port=database["PORT"] or 5432,
                                                  user=database["USER"], password=database["PASSWORD"] or None,
                                                  dbname=database["NAME"], autocommit=True))
    result = SetupResult(config)
    with connect() as connection:
        if data_dir is None:
            try:
                data_dir = Path(connection.execute("SHOW data_directory").fetchone()[0])
            except psycopg.Error as exc:
                raise SetupRefused("this role may not read the cluster's data_directory: give --pg-data DIR") from exc
        host = database["HOST"] or "/var/run/postgresql"
        if not host.startswith("/"):
            raise SetupRefused("pgBackRest reaches the cluster through its Unix socket: DATABASE_URL's host must be "
                               "the socket directory (postgres://…@%2Fvar%2Frun%2Fpostgresql/…)")
        cluster = Cluster(data_dir, int(database["PORT"] or 5432), Path(host))
        repos: list[LocalRepo | S3Repo] = [LocalRepo(Path(settings.BASTION_BACKUP_DIR))]
        offsite = offsite_repo(settings.BASTION_BACKUP_URL) if settings.BASTION_BACKUP_URL else None
        if offsite:
            repos.append(offsite)
        passphrase = keys.pgbackrest_passphrase(Path(settings.DATA_DIR) / "pgbackrest-passphrase.json")
        write_config(config, stanza=stanza, cluster=cluster, repos=repos, passphrase=passphrase,
                     work_dir=config.parent / f"pgbackrest-{stanza}")
        result.steps.append(Step("config", True, f"{config} (0640, postgres): {len(repos)} encrypted repositories"))
        pgbackrest = PgBackRest(config, stanza)
        try:
            pgbackrest.stanza_create()
            result.steps.append(Step("stanza", True, f"stanza {stanza} ready in every repository"))
        except PgBackRestError as exc:
            result.steps.append(Step("stanza", False, str(exc)))
            return result
        _archiving(connection, archive_command(config, stanza), apply, result)
    if result.guidance:
        return result
    try:
        pgbackrest.check()
        result.steps.append(Step("check", True, "a WAL segment reached every repository"))
    except PgBackRestError as exc:
        result.steps.append(Step("check", False, str(exc)))
    return result


def _archiving(connection, command: str, apply: bool, result: SetupResult) -> None:
    import psycopg
    from psycopg import sql

    def show(name: str) -> str:
        return str(connection.execute(f"SHOW {name}").fetchone()[0])  # noqa: S608 — names are ours

    wanted = {"archive_command": command, "archive_timeout": f"{ARCHIVE_TIMEOUT}s"}
    current = {"archive_command": show("archive_command"), "archive_timeout": show("archive_timeout")}
    off = [name for name, value in wanted.items() if current[name] != value and not (
        name == "archive_timeout" and current[name] not in ("0",) and _seconds(current[name]) <= ARCHIVE_TIMEOUT)]
    if off and apply:
        try:
            for name in off:
                connection.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(wanted[name])))
            connection.execute("SELECT pg_reload_conf()")
            result.steps.append(Step("archiving", True, f"set {', '.join(off)} (ALTER SYSTEM, reloaded)"))
            off = []
        except psycopg.Error as exc:
            result.steps.append(Step("archiving", False, f"ALTER SYSTEM refused ({str(exc).splitlines()[0]}): "
                                                         "set these as a superuser"))
    elif not off:
        result.steps.append(Step("archiving", True, f"archive_command is pgBackRest's, archive_timeout {current['archive_timeout']}"))
    for name in off:
        result.guidance.append(f"{name} = '{wanted[name]}'")
    if show("archive_mode") == "off":
        result.guidance.append("archive_mode = on  (needs a restart of PostgreSQL)")
    if show("wal_level") == "minimal":
        result.guidance.append("wal_level = replica  (needs a restart of PostgreSQL)")


def _seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1, "min": 60, "h": 3600, "d": 86400}
    for unit in sorted(units, key=len, reverse=True):
        if value.endswith(unit):
            return float(value[: -len(unit)]) * units[unit]
    return float(value)
