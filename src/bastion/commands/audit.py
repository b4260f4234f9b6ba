"""``bastion audit verify`` and ``bastion audit export``: audit chains named by organisation slug."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.audit import export as audit_export
from bastion.tenancy import audit_verification
from bastion.tenancy.organisations import UnknownOrganisation, id_for


class CommandError(Exception):
    """A one-line reason; the CLI prints it and exits 2."""


def verify(slug: str | None = None, *, record: bool = True, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Exit code: 0 when every chain verified is intact, 1 otherwise (one line per broken chain)."""
    try:
        run = audit_verification.verify(slug, record=record,
                                        progress=lambda name, n: err.write(f"\r{name}: {n} events"))
    except UnknownOrganisation as exc:
        raise CommandError(str(exc)) from exc
    err.write("\n")
    for result in run.results:
        report = result.report
        if report.ok:
            out.write(f"ok {result.name}: {report.events} events, {report.checkpoints} checkpoints\n")
        else:
            out.write(f"BROKEN {result.name}: first bad sequence number {report.first_bad_seq}: {report.message}\n")
    return 0 if run.ok else 1


def export(slug: str, out: TextIO) -> int:
    try:
        chain = id_for(slug)
    except UnknownOrganisation as exc:
        raise CommandError(str(exc)) from exc
    for line in audit_export.export_lines(chain):
        out.write(line)
    return 0
