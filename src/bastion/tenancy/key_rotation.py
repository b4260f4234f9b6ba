"""Rotating organisations' keys and the audit signing key: the work behind ``bastion keys rotate``
and the scheduled rotation job, each step audited. Returns what it did; the command and the job
display or log it (nothing parses printed text)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction

from bastion.audit import chain as audit
from bastion.audit import signing
from bastion.audit.audit_actions import AUDIT_SIGNING_KEY_ROTATED
from bastion.crypto import rotation
from bastion.tenancy import context
from bastion.tenancy.audit_actions import KEYS_ROTATED, KEYS_ROTATION_STARTED
from bastion.tenancy.organisations import UnknownOrganisation, slugs_by_id

# progress(slug, rows re-encrypted so far, at most this many rows)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class OrganisationRotation:
    organisation_id: str
    slug: str
    rows_reencrypted: int
    versions_retired: list[int]
    data_key_version: int | None = None  # None when an interrupted rotation was resumed


@dataclass
class RotationRun:
    rotated: list[OrganisationRotation] = field(default_factory=list)


@dataclass(frozen=True)
class SigningKeyRotation:
    retired_key_id: str
    key_id: str


def _chosen(slug: str | None) -> list[tuple[str, str]]:
    slugs = slugs_by_id()
    chosen = sorted(((o, s) for o, s in slugs.items() if slug is None or s == slug), key=lambda item: item[1])
    if slug is not None and not chosen:
        raise UnknownOrganisation(slug)
    return chosen


def rotate(slug: str | None = None, *, batch_size: int = 500, only_older_than_days: int | None = None,
           progress: Progress | None = None) -> RotationRun:
    """New KEK and data key versions for each organisation (or those whose newest key is older than
    ``only_older_than_days``), every value re-encrypted, unused versions retired."""
    run = RotationRun()
    for organisation_id, name in _chosen(slug):
        with context.tenant_context(uuid.UUID(organisation_id)):
            if only_older_than_days is not None and not rotation.due(organisation_id, only_older_than_days):
                continue
            version = rotation.new_versions(organisation_id)
            audit.record(KEYS_ROTATION_STARTED, organisation_id=organisation_id, resource_type="organisation",
                         resource_id=organisation_id, changes={"data_key_version": version})
        rewritten = _reencrypt(organisation_id, name, batch_size, progress)
        with context.tenant_context(uuid.UUID(organisation_id)):
            retired = rotation.retire_unused(organisation_id)
            with transaction.atomic():
                audit.record(KEYS_ROTATED, organisation_id=organisation_id, resource_type="organisation",
                             resource_id=organisation_id,
                             changes={"data_key_version": version, "rows_reencrypted": rewritten,
                                      "versions_retired": retired})
        run.rotated.append(OrganisationRotation(organisation_id, name, rewritten, retired, version))
    return run


def resume(slug: str | None = None, *, batch_size: int = 500, progress: Progress | None = None) -> RotationRun:
    """Finish an interrupted rotation: re-encrypt what is still under older keys, retire what is unused."""
    run = RotationRun()
    for organisation_id, name in _chosen(slug):
        rewritten = _reencrypt(organisation_id, name, batch_size, progress)
        with context.tenant_context(uuid.UUID(organisation_id)):
            retired = rotation.retire_unused(organisation_id)
            audit.record(KEYS_ROTATED, organisation_id=organisation_id, resource_type="organisation",
                         resource_id=organisation_id,
                         changes={"resumed": True, "rows_reencrypted": rewritten, "versions_retired": retired})
        run.rotated.append(OrganisationRotation(organisation_id, name, rewritten, retired))
    return run


def rotate_audit_signing() -> SigningKeyRotation:
    """A new Ed25519 key signs checkpoints from now on; audited in the platform's chain.
    Raises ``signing.RotationRefused`` when the key is not the platform's to rotate."""
    with transaction.atomic():
        old, new = signing.rotate()
        audit.record(AUDIT_SIGNING_KEY_ROTATED, resource_type="audit_signing_key", resource_id=new,
                     changes={"retired_key_id": old, "key_id": new})
    return SigningKeyRotation(retired_key_id=old, key_id=new)


def _reencrypt(organisation_id: str, name: str, batch_size: int, progress: Progress | None) -> int:
    with context.tenant_context(uuid.UUID(organisation_id)):
        total = sum(model._base_manager.filter(organisation_id=organisation_id).count()
                    for model, _ in rotation.encrypted_models())
    return rotation.reencrypt(
        organisation_id,
        in_transaction=lambda: context.tenant_context(uuid.UUID(organisation_id)),
        batch_size=batch_size,
        progress=(lambda done: progress(name, done, total)) if progress else None,
    )
