"""A run of the trust checks and each check's result in it; the documents released under NDA and
the requests for them. Platform rows, not tenant data."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class CheckRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    digest = models.CharField(max_length=64)  # SHA-256 of the canonical JSON of the results
    key_id = models.CharField(max_length=32)
    signature = models.CharField(max_length=100)  # Ed25519 over the digest's canonical statement
    audit_seq = models.PositiveBigIntegerField(null=True)

    class Meta:
        ordering = ["-finished_at"]


class CheckResult(models.Model):
    PASS, FAIL, UNKNOWN, NOT_APPLICABLE = "pass", "fail", "unknown", "not_applicable"
    RESULTS = [(PASS, "pass"), (FAIL, "fail"), (UNKNOWN, "unknown"), (NOT_APPLICABLE, "not applicable")]

    id = models.BigAutoField(primary_key=True)
    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="results")
    check_id = models.CharField(max_length=80)
    version = models.PositiveIntegerField()
    result = models.CharField(max_length=20, choices=RESULTS)
    details = models.TextField()
    evidence = models.JSONField(default=dict)
    evidence_sha256 = models.CharField(max_length=64)
    checked_at = models.DateTimeField()

    class Meta:
        ordering = ["check_id"]
        constraints = [models.UniqueConstraint(fields=["run", "check_id"], name="trust_result_once_per_run")]


class ControlNote(models.Model):
    """The operator's note shown next to a control on /trust (why it fails, what is being done)."""

    control_id = models.CharField(max_length=80, primary_key=True)
    note = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)


class NdaDocument(models.Model):
    """A document released under NDA (a SOC 2 report, a penetration-test summary): uploaded by
    security staff, its file an encrypted artifact of the platform (``crypto.artifacts``)."""

    KINDS = [("soc2_report", "SOC 2 report"), ("iso27001_certificate", "ISO/IEC 27001 certificate"),
             ("pentest_summary", "Penetration-test summary"), ("other", "Other")]
    AUTOMATIC, STAFF = "automatic", "staff"
    APPROVALS = [(AUTOMATIC, "Automatic, once the NDA is accepted"), (STAFF, "By security staff")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=KINDS)
    approval = models.CharField(max_length=10, choices=APPROVALS)
    access_seconds = models.PositiveIntegerField()  # how long a released link downloads
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    artifact_id = models.UUIDField()  # crypto.Artifact of the platform (no FK: crypto is a lower layer)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]


class DocumentRequest(models.Model):
    """A named person's request for an NDA document: the NDA they accepted, the decision, and the
    link released to them (its token stored only as a SHA-256 digest)."""

    PENDING, APPROVED, DENIED = "pending", "approved", "denied"
    STATES = [(PENDING, "Waiting for staff"), (APPROVED, "Approved"), (DENIED, "Denied")]

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    document = models.ForeignKey(NdaDocument, on_delete=models.CASCADE, related_name="requests")
    sealed_requester = models.TextField()  # name, email, company: sealed under the platform's data key
    nda_sha256 = models.CharField(max_length=64)  # of the NDA text the person accepted
    accepted_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=STATES, default=PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    link_digest = models.CharField(max_length=64, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-accepted_at"]
