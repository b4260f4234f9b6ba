"""The read-access log: who viewed or downloaded what, one hash-chained batch per request.

A batch lists every resource one request showed (the 50 records of a list page are one batch, not 50
appends). Batches are append-only (triggers on both backends, no UPDATE/DELETE for the app role on
PostgreSQL) and chained per organisation: ``hash = SHA-256(prev_hash || JCS(body))`` as in the audit
log (``bastion.audit.format``). ``AccessLogHead`` is the one mutable row per organisation, the lock that
serialises appends.
"""

from __future__ import annotations

from django.db import models

from bastion.audit.format import GENESIS_HASH
from bastion.tenancy.models import TenantModel

KINDS = {
    "record_view": "Records viewed (lists and detail pages)",
    "evidence_download": "Evidence files downloaded",
    "export": "Records exported",
    "credential_preview": "Credentials shown (name and preview, never the secret)",
}


class AccessLogSettings(TenantModel):
    """What an organisation's read-access log records; no row means the defaults."""

    record_views = models.BooleanField(default=False)
    evidence_downloads = models.BooleanField(default=True)
    exports = models.BooleanField(default=True)
    credential_previews = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation"], name="access_log_settings_one_per_org")]


class AccessLogHead(TenantModel):
    seq = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH.hex())
    # The hash before ``hash``: the single statement that moves the head on PostgreSQL hands it to the
    # batch it inserts (RETURNING shows only the new row).
    prev_hash = models.CharField(max_length=64, default=GENESIS_HASH.hex())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organisation"], name="access_log_head_one_per_org")]


class AccessBatch(TenantModel):
    # Append-only, like the audit log: an organisation's deletion leaves its batches (no cascade, no
    # database constraint) to be pruned under retention, as its audit chain is.
    organisation = models.ForeignKey("tenancy.Organisation", on_delete=models.DO_NOTHING, db_constraint=False,
                                     related_name="+")
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    kind = models.CharField(max_length=30, choices=list(KINDS.items()))
    actor_type = models.CharField(max_length=20)
    actor_id = models.CharField(max_length=100, blank=True)
    actor_label = models.CharField(max_length=254, blank=True)
    # [[resource_type, resource_id], …] in the order shown; ``resource_keys`` repeats them as
    # " type:id type:id " so that one resource's batches are found on every backend.
    resources = models.JSONField(default=list)
    resource_keys = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # The support-access grant the request was made under (bastion.support_access), when there is one.
    grant_id = models.UUIDField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["organisation", "seq"]
        constraints = [models.UniqueConstraint(fields=["organisation", "seq"], name="access_batch_org_seq")]
        indexes = [models.Index(fields=["organisation", "actor_id"]), models.Index(fields=["organisation", "occurred_at"])]
