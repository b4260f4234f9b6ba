"""``bastion privacy retention [--dry-run]``: shows what ``privacy.retention.enforce`` deleted (or,
with --dry-run, would delete) and what legal holds kept."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.privacy import retention


def retention_run(*, dry_run: bool, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    def progress(organisation: str, done: int, total: int) -> None:
        err.write(f"\r{done}/{total} organisations ({organisation})")
        err.flush()

    run = retention.enforce(dry_run=dry_run, progress=progress)
    err.write("\n")
    verb = "would delete" if dry_run else "deleted"
    for outcome in run.outcomes:
        if not outcome.deleted and not outcome.kept_by_hold:
            continue
        out.write(f"{outcome.organisation}: {outcome.data_class}: {verb} {outcome.deleted} "
                  f"(older than {outcome.cutoff:%Y-%m-%d})\n")
        for hold, count in outcome.kept_by_hold.items():
            out.write(f"{outcome.organisation}: {outcome.data_class}: kept {count} under {hold}\n")
    out.write(f"{'dry run: ' if dry_run else ''}{verb} {run.deleted} in all, kept {run.held} under legal holds\n")
    return 0
