"""``bastion trust run``: run every trust check against this deployment and show the results.
Exit 0 when none failed, 1 when any failed (unknown and not applicable are not failures)."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.trust import runs


def run(*, only: list[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    summary = runs.run_all(only=only)
    for result in summary.results:
        out.write(f"{result.result:15} {result.check_id:36} {result.details}\n")
    out.write(f"run {summary.run.id} signed by key {summary.run.key_id}, digest {summary.run.digest}, "
              f"platform audit event {summary.run.audit_seq}\n")
    return 0 if summary.ok else 1
