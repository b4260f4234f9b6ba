"""``bastion anonymise [--backup ID]``: show what ``bastion.operations.anonymise`` made.
Exit 0 the copy is in every repository, 1 it could not be made or stored, 2 bad usage."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.commands.backups import CommandError, _sqlite_only
from bastion.operations import anonymise as anonymiser


def run(backup_id: str | None, *, seed: int | None = None, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    _sqlite_only("bastion anonymise")
    try:
        result = anonymiser.anonymise(backup_id, progress=lambda message: err.write(message + "\n"), seed=seed)
    except anonymiser.AnonymiseFailed as exc:
        raise CommandError(str(exc)) from exc
    out.write(
        f"anonymised copy of backup {result.source_backup}: {', '.join(result.backup_ids)}\n"
        f"{result.values_replaced} value(s) in {result.fields_replaced} field(s) replaced by fakes; "
        f"{len(result.tables_emptied)} table(s) of keys, sessions and logs emptied; no object files\n"
        "restore it in staging or development with: bastion backup restore --to DIR --backup ID\n"
    )
    return 0
