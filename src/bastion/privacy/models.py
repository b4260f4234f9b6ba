"""Data-protection state: people's requests (platform tables: a person is not an organisation's),
and each organisation's retention policies, legal holds and scheduled deletion (tenant tables)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from bastion.tenancy.models import TenantModel


class PersonalExport(models.Model):
    """A person's "export my data" request, built by a job into an ephemeral artifact."""

    STATES = [("queued", "Queued"), ("building", "Building"), ("ready", "Ready"), ("downloaded", "Downloaded"),
              ("expired", "Expired"), ("failed", "Failed")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=12, choices=STATES, default="queued")
    progress = models.PositiveSmallIntegerField(default=0, help_text="percent")
    artifact_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    ready_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class DeletionRequest(models.Model):
    """A person's account deletion, waiting out its grace period; ``erasure`` is the answer given
    when it ran (what was erased, what was kept and why)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    erasure = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [models.UniqueConstraint(fields=["user"],
                                               condition=models.Q(cancelled_at__isnull=True, erased_at__isnull=True),
                                               name="privacy_deletionrequest_one_pending")]

    @property
    def pending(self) -> bool:
        return self.cancelled_at is None and self.erased_at is None


class SubjectRequest(models.Model):
    """A data-subject request that arrived by email (privacy@), recorded by platform staff, with the
    requester's identity verification and the statutory deadline (one month, Art. 12(3) GDPR)."""

    KINDS = [("access", "Access (Art. 15)"), ("rectification", "Rectification (Art. 16)"),
             ("erasure", "Erasure (Art. 17)"), ("portability", "Portability (Art. 20)")]
    VERIFICATION = [("pending", "Not yet verified"), ("verified", "Identity verified"), ("failed", "Not verified")]
    STATES = [("open", "Open"), ("completed", "Completed"), ("refused", "Refused")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=15, choices=KINDS)
    requester_email = models.EmailField()
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    received_at = models.DateTimeField()
    deadline = models.DateTimeField()
    verification = models.CharField(max_length=10, choices=VERIFICATION, default="pending")
    state = models.CharField(max_length=10, choices=STATES, default="open")
    notes = models.TextField(blank=True)
    recorded_by_id = models.BigIntegerField(null=True)

    class Meta:
        ordering = ["deadline"]


class RetentionPolicy(TenantModel):
    """An organisation's own period for one data class, within the platform's bounds."""

    data_class = models.CharField(max_length=30)
    days = models.PositiveIntegerField()
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["data_class"]
        constraints = [models.UniqueConstraint(fields=["organisation", "data_class"], name="privacy_retention_one")]


class LegalHold(TenantModel):
    """While active, nothing it covers (the organisation, a workspace or a project) is deleted by
    retention, and no member it covers is erased."""

    workspace = models.ForeignKey("tenancy.Workspace", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    project = models.ForeignKey("tenancy.Project", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    placed_by_label = models.CharField(max_length=254, blank=True)
    placed_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at"]

    @property
    def scope(self) -> str:
        return "project" if self.project_id else "workspace" if self.workspace_id else "organisation"

    def describe(self) -> str:
        target = (f"project {self.project_id}" if self.project_id else f"workspace {self.workspace_id}"
                  if self.workspace_id else "the organisation")
        return f"legal hold {self.id} on {target}: {self.reason}"


class OrganisationDeletion(TenantModel):
    """An organisation's deletion, scheduled by an owner and carried out when due unless cancelled."""

    requested_by_label = models.CharField(max_length=254, blank=True)
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]


class LedgerApplied(models.Model):
    """An erasure ledger entry (``privacy.ledger``) this database has carried out: what a restored
    copy lacks here is replayed before it serves."""

    seq = models.PositiveBigIntegerField(primary_key=True)
    entry_hash = models.CharField(max_length=64)
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
