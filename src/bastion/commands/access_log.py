"""``bastion access-log verify``: organisations' read-access logs, named by slug."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.access_log import verification
from bastion.commands.audit import CommandError
from bastion.tenancy.organisations import UnknownOrganisation


def verify(slug: str | None = None, *, record: bool = True, out: TextIO = sys.stdout) -> int:
    """Exit code: 0 when every log verified is intact, 1 otherwise (one line per broken log)."""
    try:
        run = verification.verify(slug, record=record)
    except UnknownOrganisation as exc:
        raise CommandError(str(exc)) from exc
    for result in run.results:
        checked = result.check
        if checked.ok:
            out.write(f"ok {result.name}: {checked.batches} batches\n")
        else:
            out.write(f"BROKEN {result.name}: first bad batch {checked.first_bad_seq}: {checked.message}\n")
    return 0 if run.ok else 1
