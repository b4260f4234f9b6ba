"""``bastion keys rotate``: rotate organisations' keys, resumably, with progress and an audit event."""

from __future__ import annotations

import sys
import uuid
from typing import TextIO

from django.db import transaction

from bastion.audit import chain as audit
from bastion.audit import signing
from bastion.commands.audit import CommandError, organisation_slugs
from bastion.crypto import rotation
from bastion.tenancy import context


BAR_WIDTH = 30


def rotate_audit_signing(*, out: TextIO | None = None) -> int:
    """A new Ed25519 key signs checkpoints from now on; audited in the platform's chain."""
    out = out or sys.stdout
    try:
        with transaction.atomic():
            old, new = signing.rotate()
            audit.record("audit.signing_key.rotated", resource_type="audit_signing_key", resource_id=new,
                         changes={"retired_key_id": old, "key_id": new})
    except signing.RotationRefused as exc:
        raise CommandError(str(exc)) from exc
    out.write(f"rotated the audit signing key: {new} signs from now on; {old} stays published and keeps "
              "verifying older checkpoints\n")
    return 0


def rotate(slug: str | None = None, *, batch_size: int = 500, only_older_than_days: int | None = None,
           out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    slugs = organisation_slugs()
    chosen = {o: s for o, s in slugs.items() if slug is None or s == slug}
    if slug is not None and not chosen:
        raise CommandError(f"no organisation with slug {slug!r}")
    for organisation_id, name in sorted(chosen.items(), key=lambda item: item[1]):
        with context.tenant_context(uuid.UUID(organisation_id)):
            if only_older_than_days is not None and not rotation.due(organisation_id, only_older_than_days):
                continue
            version = rotation.new_versions(organisation_id)
            audit.record("keys.rotation_started", organisation_id=organisation_id, resource_type="organisation",
                         resource_id=organisation_id, changes={"data_key_version": version})
        rewritten = _reencrypt(organisation_id, name, batch_size, err)
        with context.tenant_context(uuid.UUID(organisation_id)):
            retired = rotation.retire_unused(organisation_id)
            with transaction.atomic():
                audit.record("keys.rotated", organisation_id=organisation_id, resource_type="organisation",
                             resource_id=organisation_id,
                             changes={"data_key_version": version, "rows_reencrypted": rewritten,
                                      "versions_retired": retired})
        out.write(f"rotated {name}: data key v{version}, {rewritten} rows re-encrypted, retired {retired or 'none'}\n")
    return 0


def resume(slug: str | None = None, *, batch_size: int = 500, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Finish an interrupted rotation: re-encrypt what is still under older keys, retire what is unused."""
    for organisation_id, name in sorted(organisation_slugs().items(), key=lambda item: item[1]):
        if slug is None or name == slug:
            rewritten = _reencrypt(organisation_id, name, batch_size, err)
            with context.tenant_context(uuid.UUID(organisation_id)):
                retired = rotation.retire_unused(organisation_id)
                audit.record("keys.rotated", organisation_id=organisation_id, resource_type="organisation",
                             resource_id=organisation_id,
                             changes={"resumed": True, "rows_reencrypted": rewritten, "versions_retired": retired})
            out.write(f"resumed {name}: {rewritten} rows re-encrypted, retired {retired or 'none'}\n")
    return 0


def _reencrypt(organisation_id: str, name: str, batch_size: int, err: TextIO) -> int:
    with context.tenant_context(uuid.UUID(organisation_id)):
        total = sum(model._base_manager.filter(organisation_id=organisation_id).count()
                    for model, _ in rotation.encrypted_models())

    def progress(done: int) -> None:
        filled = round(BAR_WIDTH * min(done, total) / total) if total else BAR_WIDTH
        err.write(f"\r{name}: [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done} rows re-encrypted of at most {total}")
        err.flush()

    rewritten = rotation.reencrypt(
        organisation_id,
        in_transaction=lambda: context.tenant_context(uuid.UUID(organisation_id)),
        batch_size=batch_size,
        progress=progress,
    )
    err.write("\n")
    return rewritten
