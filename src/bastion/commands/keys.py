"""``bastion keys rotate``: shows the progress and results of ``tenancy.key_rotation``."""

from __future__ import annotations

import sys
from typing import TextIO

from bastion.audit import signing
from bastion.commands.audit import CommandError
from bastion.tenancy import key_rotation
from bastion.tenancy.organisations import UnknownOrganisation

BAR_WIDTH = 30


def rotate_audit_signing(*, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    try:
        done = key_rotation.rotate_audit_signing()
    except signing.RotationRefused as exc:
        raise CommandError(str(exc)) from exc
    out.write(f"rotated the audit signing key: {done.key_id} signs from now on; {done.retired_key_id} stays "
              "published and keeps verifying older checkpoints\n")
    return 0


def rotate(slug: str | None = None, *, batch_size: int = 500, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    return _show(key_rotation.rotate, slug, batch_size, out, err,
                 lambda done: f"rotated {done.slug}: data key v{done.data_key_version}, ")


def resume(slug: str | None = None, *, batch_size: int = 500, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    return _show(key_rotation.resume, slug, batch_size, out, err, lambda done: f"resumed {done.slug}: ")


def _show(service, slug, batch_size: int, out: TextIO, err: TextIO, headline) -> int:
    try:
        run = service(slug, batch_size=batch_size, progress=_progress_bar(err))
    except UnknownOrganisation as exc:
        raise CommandError(str(exc)) from exc
    if run.rotated:
        err.write("\n")
    for done in run.rotated:
        out.write(f"{headline(done)}{done.rows_reencrypted} rows re-encrypted, retired {done.versions_retired or 'none'}\n")
    return 0


def _progress_bar(err: TextIO):
    drawn: set[str] = set()

    def draw(slug: str, done: int, total: int) -> None:
        if drawn and slug not in drawn:
            err.write("\n")
        drawn.add(slug)
        filled = round(BAR_WIDTH * min(done, total) / total) if total else BAR_WIDTH
        err.write(f"\r{slug}: [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done} rows re-encrypted of at most {total}")
        err.flush()

    return draw
