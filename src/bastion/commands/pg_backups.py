"""``bastion backup …`` on PostgreSQL: pgBackRest's side of each command (see ``commands.backups``)."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections
from django.utils import timezone

from bastion.backups import pg_backups, pg_cluster, pg_drills
from bastion.backups.models import Backup
from bastion.backups.pgbackrest import PgBackRestError
from bastion.commands.backups import CommandError


def is_postgresql() -> bool:
    return connections["default"].vendor == "postgresql"


def _pgbackrest():
    try:
        return pg_backups.configured()
    except PgBackRestError as exc:
        raise CommandError(str(exc)) from exc


def now(*, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    kind = pg_backups.due_kind(timezone.now(), list(Backup.objects.filter(engine="postgresql")))
    result = pg_backups.take(_pgbackrest(), kind, progress=lambda m: err.write(m + "\n"))
    for copy in result.copies:
        out.write(f"ok {copy.backup_id} repo{copy.repo} {copy.type} {copy.label} {copy.size} bytes\n" if copy.ok
                  else f"FAILED repo{copy.repo}: {copy.error}\n")
    return 0 if result.ok else 1


def _source() -> dict:
    database = settings.DATABASES["default"]
    return {"host": database["HOST"] or None, "port": database["PORT"] or 5432, "user": database["USER"],
            "password": database["PASSWORD"] or None}


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
    try:
        result = pg_backups.restore(_pgbackrest(), Path(to), parts.port, target_time=target, label=backup_label,
                                    database=parts.path.strip("/"), progress=lambda m: err.write(m + "\n"))
    except pg_cluster.ClusterError as exc:
        raise CommandError(str(exc)) from exc
    except PgBackRestError as exc:
        out.write(f"FAILED {exc}\n")
        return 1
    for check in result.chains:
        out.write(f"{'ok' if check.ok else 'BROKEN'} chain {check.chain_id}: {check.restored_events} events restored, "
                  f"{check.events_lost} beyond the restore point\n")
    out.write(f"{'ok' if result.erasures.ok else 'FAILED'} erasure ledger: {result.erasures.summary()}\n")
    out.write(f"restored into {to} on port {parts.port}, newest transaction {result.restored_time}; "
              f"{result.events_lost} audit event(s) lost\n")
    return 0 if result.ok else 1


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def drill(*, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    result = pg_drills.run(_pgbackrest(), port=_free_port(), source_dsn=_source(),
                           database=settings.DATABASES["default"]["NAME"], bastion_database=True,
                           progress=lambda m: err.write(m + "\n"))
    for check in result.checks:
        out.write(f"{'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}\n")
    rto = f"{result.rto_seconds:.2f} s" if result.rto_seconds is not None else "-"
    rpo = f"{result.rpo_seconds:.2f} s" if result.rpo_seconds is not None else "-"
    out.write(f"drill {result.drill_id} {'passed' if result.ok else 'FAILED'}: RTO {rto}, RPO {rpo}\n")
    return 0 if result.ok else 1


def verify(*, out: TextIO = sys.stdout) -> int:
    pgbackrest, ok = _pgbackrest(), True
    for repo in (1, 2):
        try:
            pgbackrest.verify(repo)
            out.write(f"ok repo{repo}\n")
        except PgBackRestError as exc:
            ok = False
            out.write(f"FAILED repo{repo}: {exc}\n")
    return 0 if ok else 1
