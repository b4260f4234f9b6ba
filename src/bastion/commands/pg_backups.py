"""``bastion backup …`` on PostgreSQL: pgBackRest's side of each command (see ``commands.backups``)."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from django.db import connections
from django.utils import timezone

from bastion.backups import environments, pg_backups, pg_cluster, pg_drills, pg_setup
from bastion.backups.models import Backup
from bastion.backups.pgbackrest import PgBackRestError
from bastion.commands.backups import CommandError, show_drill


def is_postgresql() -> bool:
    return connections["default"].vendor == "postgresql"


def _pgbackrest():
    try:
        return pg_backups.configured()
    except PgBackRestError as exc:
        raise CommandError(str(exc)) from exc


def now(*, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    kind = pg_backups.due_kind(timezone.now(), list(Backup.objects.filter(engine="postgresql")))
    pgbackrest = _pgbackrest()
    result = pg_backups.take(pgbackrest, kind, repos=pgbackrest.repo_keys(), progress=lambda m: err.write(m + "\n"))
    for copy in result.copies:
        out.write(f"ok {copy.backup_id} repo{copy.repo} {copy.type} {copy.label} {copy.size} bytes\n" if copy.ok
                  else f"FAILED repo{copy.repo}: {copy.error}\n")
    return 0 if result.ok else 1


def _source() -> dict:
    return pg_drills.live_source()


def restore(to: str | None, to_database: str | None, when: str | None, *, backup_label: str | None = None,
            out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """``--to DIR`` (the new cluster's directory) ``--to-database postgres://…:PORT/DB`` (its port, and the
    database whose audit chains to verify) ``[--time T]``."""
    if not to or not to_database:
        raise CommandError("on PostgreSQL give --to DIR (the new cluster's directory) and --to-database "
                           "postgres://localhost:PORT/DATABASE (its port; never the live one)")
    parts = urlsplit(to_database)
    if parts.scheme not in ("postgres", "postgresql") or not parts.port or not parts.path.strip("/"):
        raise CommandError(f"--to-database {to_database!r}: use postgres://localhost:PORT/DATABASE")
    if str(parts.port) == str(_source()["port"]):
        raise CommandError(f"port {parts.port} is the live database's: restore into a new cluster on another port")
    target = None
    if when:
        try:
            target = datetime.datetime.fromisoformat(when)
        except ValueError as exc:
            raise CommandError(f"--time {when!r} is not an ISO 8601 moment") from exc
        if target.tzinfo is None:
            raise CommandError(f"--time {when!r} needs a time zone (e.g. +00:00)")
    pgbackrest = _pgbackrest()
    try:
        if target is not None:
            pgbackrest.check()  # forces a WAL switch: the moment asked for is archived
        result = pg_backups.restore(pgbackrest, Path(to), parts.port, target_time=target, label=backup_label,
                                    database=parts.path.strip("/"), progress=lambda m: err.write(m + "\n"))
    except (pg_cluster.ClusterError, environments.NotAnonymised) as exc:
        raise CommandError(str(exc)) from exc
    except PgBackRestError as exc:
        out.write(f"FAILED {exc}\n")
        return 1
    for check in result.chains:
        out.write(f"{'ok' if check.ok else 'BROKEN'} chain {check.chain_id}: {check.restored_events} events restored, "
                  f"{check.events_lost} beyond the restore point{': ' + check.message if check.message else ''}\n")
    out.write(f"{'ok' if result.erasures.ok else 'FAILED'} erasure ledger: {result.erasures.summary()}\n")
    out.write(f"restored into {to} on port {parts.port}, newest transaction {result.restored_time}; "
              f"{result.events_lost} audit event(s) lost\n")
    return 0 if result.ok else 1


def drill(*, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The latest moment, then a random point in time between the oldest backup and now."""
    _pgbackrest()  # a clear exit 2 when pgBackRest is not configured
    results = pg_drills.run_configured(progress=lambda m: err.write(m + "\n"))
    for result in results:
        show_drill(result, out)
    return 0 if all(result.ok for result in results) else 1


def verify(*, out: TextIO = sys.stdout) -> int:
    pgbackrest, ok = _pgbackrest(), True
    for repo in pgbackrest.repo_keys():
        try:
            pgbackrest.verify(repo)
            out.write(f"ok repo{repo}\n")
        except PgBackRestError as exc:
            ok = False
            out.write(f"FAILED repo{repo}: {exc}\n")
    return 0 if ok else 1


def setup(pg_data: str | None, *, apply: bool = False, out: TextIO = sys.stdout) -> int:
    """pgBackRest's configuration, the stanza, WAL archiving (applied with ``--apply``), ``pgbackrest check``."""
    if not is_postgresql():
        raise CommandError("setup is for PostgreSQL (pgBackRest); SQLite snapshots need none: see docs/backups.md")
    try:
        result = pg_setup.setup(data_dir=Path(pg_data) if pg_data else None, apply=apply)
    except pg_setup.SetupRefused as exc:
        raise CommandError(str(exc)) from exc
    for step in result.steps:
        out.write(f"{'ok' if step.ok else 'FAILED'} {step.name}: {step.detail}\n")
    if result.guidance:
        out.write("TO DO in postgresql.conf (or run again with --apply as a superuser), then run setup again:\n")
        for line in result.guidance:
            out.write(f"  {line}\n")
    out.write(f"pgBackRest {'is set up' if result.ok else 'is NOT set up'}: {result.config}\n")
    return 0 if result.ok else 1
