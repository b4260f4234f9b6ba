"""``bastion backup now|list|restore|drill|verify``: show what the services in ``bastion.backups`` did.
Exit 0 ok, 1 a failed backup, restore check, drill or verification, 2 bad usage (``CommandError``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from django.db import connections

from bastion.backups import catalogue, drills, snapshots
from bastion.backups import restore as restores


class CommandError(Exception):
    """A one-line reason; the CLI prints it and exits 2."""


def _progress(err: TextIO):
    return lambda message: err.write(message + "\n")


def _sqlite_only(what: str) -> None:
    if connections["default"].vendor != "sqlite":
        raise CommandError(f"{what} on PostgreSQL is pgBackRest's: see docs/backups.md (BASTION_PGBACKREST_CONFIG)")


def now(*, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    _sqlite_only("bastion backup now")
    result = snapshots.take(progress=_progress(err))
    for copy in result.copies:
        if copy.ok:
            out.write(f"ok {copy.backup_id} {copy.repository} {copy.size} bytes\n")
        else:
            out.write(f"FAILED {copy.repository}: {copy.error}\n")
    return 0 if result.ok else 1


def _size(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(size)


def list_(*, out: TextIO = sys.stdout) -> int:
    rows = catalogue.listing()
    out.write(f"{'id':36}  {'finished (UTC)':19}  {'type':8}  {'size':>10}  {'status':7}  {'drill-proven':12}  repository\n")
    for row in rows:
        when = row.finished_at.strftime("%Y-%m-%d %H:%M:%S") if row.finished_at else "-"
        proven = "yes" if row.proven_by_drill else "no"
        out.write(f"{row.id:36}  {when:19}  {row.type:8}  {_size(row.size):>10}  {row.status:7}  {proven:12}  "
                  f"{row.repository}{'  (' + row.error[:80] + ')' if row.error else ''}\n")
    return 0


def restore(to: str | None, *, backup_id: str | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    _sqlite_only("bastion backup restore")
    if not to:
        raise CommandError("--to DIR is required (a new, empty directory)")
    try:
        result = restores.restore(Path(to), backup_id=backup_id, progress=_progress(err))
    except restores.RestoreRefused as exc:
        raise CommandError(str(exc)) from exc
    except restores.RestoreFailed as exc:
        out.write(f"FAILED {exc}\n")
        return 1
    for check in result.chains:
        state = "ok" if check.ok else "BROKEN"
        out.write(f"{state} chain {check.chain_id}: {check.restored_events} events restored, "
                  f"{check.events_lost} beyond the restore point{': ' + check.message if check.message else ''}\n")
    out.write(f"{'ok' if result.erasures.ok else 'FAILED'} erasure ledger: {result.erasures.summary()}\n")
    out.write(f"restored backup {result.backup_id} (as of {result.restore_point.isoformat()}) into {result.directory}; "
              f"{result.events_lost} audit event(s) lost\n")
    return 0 if result.ok else 1


def show_drill(result, out: TextIO) -> None:
    what = (f"point in time {result.target_time.isoformat(timespec='seconds')}" if result.point_in_time
            else "latest backup")
    out.write(f"--- drill of the {what}\n")
    for check in result.checks:
        out.write(f"{'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}\n")
    rto = f"{result.rto_seconds:.2f} s" if result.rto_seconds is not None else "-"
    rpo = f"{result.rpo_seconds:.2f} s" if result.rpo_seconds is not None else "-"
    out.write(f"drill {result.drill_id} {'passed' if result.ok else 'FAILED'}: RTO {rto}, RPO {rpo}, "
              f"{result.events_lost if result.events_lost is not None else '-'} audit event(s) lost\n")


def drill(*, backup_id: str | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The newest backup (or ``--backup``), then — unless a backup was named — a random point in time
    inside the retention window."""
    _sqlite_only("bastion backup drill")
    results = [drills.run(backup_id=backup_id, progress=_progress(err))]
    if backup_id is None:
        results.append(drills.run(point_in_time=True, progress=_progress(err)))
    for result in results:
        show_drill(result, out)
    return 0 if all(result.ok for result in results) else 1


def verify(*, out: TextIO = sys.stdout) -> int:
    checks = catalogue.verify_repositories()
    for check in checks:
        if check.ok:
            out.write(f"ok {check.repository}: {check.backups} backup(s) intact\n")
        for problem in check.problems:
            out.write(f"FAILED {check.repository}: {problem}\n")
    return 0 if all(check.ok for check in checks) else 1
