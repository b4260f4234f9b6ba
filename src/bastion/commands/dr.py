"""``bastion dr drill``: promote a copy of the DR standby, serve from it, measure RTO and data lost
(``backups.dr``); this module only displays the result. Exit 0 passed, 1 failed, 2 not configured."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.backups import dr


class CommandError(Exception):
    pass


def drill(*, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    try:
        result = dr.run_configured(progress=lambda message: err.write(message + "\n"))
    except dr.NotConfigured as exc:
        raise CommandError(str(exc)) from exc
    out.write(f"--- DR drill at {result.target_time.isoformat(timespec='seconds')}\n")
    for check in result.checks:
        out.write(f"{'ok' if check.ok else 'FAILED'} {check.name}: {check.detail}\n")
    rto = f"{result.rto_seconds:.2f} s" if result.rto_seconds is not None else "-"
    rpo = f"{result.rpo_seconds:.2f} s" if result.rpo_seconds is not None else "-"
    lost = result.events_lost if result.events_lost is not None else "-"
    wal = result.wal_bytes_lost if result.wal_bytes_lost is not None else "-"
    out.write(
        f"DR drill {result.drill_id} {'passed' if result.ok else 'FAILED'}: RTO {rto}, RPO {rpo} "
        f"(target {result.rpo_target_seconds:g} s), {lost} audit event(s) lost, {wal} WAL bytes lost\n"
    )
    return 0 if result.ok else 1
