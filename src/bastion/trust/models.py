"""A run of the trust checks and each check's result in it. Platform rows, not tenant data."""

from __future__ import annotations

import uuid

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
