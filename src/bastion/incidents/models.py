"""Vulnerability reports from outside researchers, and the messages exchanged about each.

A report is platform data (no organisation owns it). What a researcher writes describes a
weakness that may not be fixed yet, and their address is personal data, so both are sealed with
the platform's data key (``crypto.platform_secrets``, bound to the report's id); the database
holds ciphertext. The private link a reporter follows is stored as a SHA-256 digest only.
"""

from __future__ import annotations

import uuid

from django.db import models

RECEIVED = "received"
ACKNOWLEDGED = "acknowledged"
TRIAGED = "triaged"
FIXING = "fixing"
RESOLVED = "resolved"
DISCLOSED = "disclosed"
REJECTED = "rejected"
REPORT_STATUSES = [(RECEIVED, "Received"), (ACKNOWLEDGED, "Acknowledged"), (TRIAGED, "Triaged"),
                   (FIXING, "Fixing"), (RESOLVED, "Resolved"), (DISCLOSED, "Disclosed"),
                   (REJECTED, "Not a vulnerability / out of scope")]

REPORTER = "reporter"
STAFF = "staff"
AUTHORS = [(REPORTER, "Reporter"), (STAFF, "Platform staff")]


class VulnerabilityReport(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)  # what the reporter quotes, e.g. BSR-2026-7K3QX9
    follow_digest = models.CharField(max_length=64, unique=True)  # SHA-256 of the reporter's private link token
    title = models.CharField(max_length=200)
    sealed_details = models.TextField()  # description, affected asset, steps: platform_secrets, bound to the id
    sealed_reporter = models.TextField()  # {"name", "email"}, sealed likewise
    wants_credit = models.BooleanField(default=False)
    credit_name = models.CharField(max_length=100, blank=True)  # shown on the acknowledgments page once resolved
    status = models.CharField(max_length=20, choices=REPORT_STATUSES, default=RECEIVED)
    cvss_vector = models.CharField(max_length=200, blank=True)  # CVSS 4.0, scored by the `cvss` library
    cvss_score = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    severity = models.CharField(max_length=10, blank=True)  # None, Low, Medium, High, Critical (CVSS 4.0 ratings)
    received_at = models.DateTimeField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    disclosed_at = models.DateTimeField(null=True, blank=True)
    disclosure_due = models.DateField()  # received + the disclosure window (90 days by default); staff may move it

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return self.reference


class ReportMessage(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    report = models.ForeignKey(VulnerabilityReport, on_delete=models.CASCADE, related_name="messages")
    author = models.CharField(max_length=10, choices=AUTHORS)
    sealed_body = models.TextField()  # platform_secrets, bound to the message id
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at"]
