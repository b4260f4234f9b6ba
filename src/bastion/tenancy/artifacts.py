"""Ephemeral artifacts (exports, temporary files), audited through their short life: made for one
use, deleted by that use, or by the scheduled job once they expire (``BASTION_EPHEMERAL_ARTIFACT_DAYS``,
14 by default). Their bytes are encrypted like every artifact (``crypto.artifacts``)."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from tempfile import SpooledTemporaryFile
from typing import Any

from django.db import transaction

from bastion.audit import chain as audit
from bastion.crypto import artifacts
from bastion.crypto.models import Artifact
from bastion.tenancy import context
from bastion.tenancy.audit_actions import ARTIFACT_CONSUMED, ARTIFACT_EXPIRED
from bastion.tenancy.models import Organisation


def _summary(artifact: Artifact) -> dict[str, Any]:
    return {"purpose": artifact.purpose, "size": artifact.size, "sha256": artifact.sha256,
            "expires_at": artifact.expires_at}


def create(organisation: Organisation, chunks: Iterable[bytes], *, purpose: str, action: str) -> Artifact:
    """Store an ephemeral artifact; ``action`` is the audit action saying what it is (``audit.exported`` …)."""
    with transaction.atomic():
        artifact = artifacts.put(organisation.id, chunks, purpose=purpose, ephemeral=True)
        audit.record(action, organisation_id=organisation.id, resource_type="artifact", resource_id=artifact.id,
                     changes=_summary(artifact))
    return artifact


def consume(artifact: Artifact) -> SpooledTemporaryFile[bytes]:
    """Its content, for the one use it was made for; it is deleted as it is handed over."""
    plaintext = artifacts.read(artifact)
    with transaction.atomic():
        audit.record(ARTIFACT_CONSUMED, organisation_id=artifact.organisation_id, resource_type="artifact",
                     resource_id=artifact.id, changes=_summary(artifact))
        artifact.delete()
    return plaintext


def purge_expired(now: datetime.datetime | None = None) -> int:
    """Delete every expired ephemeral artifact of every organisation, each deletion audited."""
    with context.platform_scope():
        organisation_ids = list(Organisation.objects.values_list("id", flat=True))
    purged = 0
    for organisation_id in organisation_ids:
        with context.tenant_context(organisation_id):
            for artifact in artifacts.expired(now).filter(organisation_id=organisation_id):
                audit.record(ARTIFACT_EXPIRED, organisation_id=organisation_id, resource_type="artifact",
                             resource_id=artifact.id, changes=_summary(artifact))
                artifact.delete()
                purged += 1
    return purged
