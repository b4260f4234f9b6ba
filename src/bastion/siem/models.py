"""Where an organisation streams its audit and read-access events, how far each destination got, and
what it kept refusing (the dead-letter list)."""

from __future__ import annotations

from django.db import models

from bastion.tenancy.models import TenantModel

KINDS = {"webhook": "HTTPS webhook (HMAC-signed JSON)", "s3": "S3-compatible bucket (JSON Lines per time window)",
         "syslog": "Syslog over TLS (RFC 5424 / RFC 5425)"}
STREAMS = ("audit", "access")


class SiemDestination(TenantModel):
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=list(KINDS.items()))
    # webhook: the URL; s3: the endpoint URL ("" for AWS); syslog: host:port
    url = models.CharField(max_length=500, blank=True)
    bucket = models.CharField(max_length=63, blank=True)
    prefix = models.CharField(max_length=200, blank=True)
    region = models.CharField(max_length=40, blank=True)
    access_key_id = models.CharField(max_length=128, blank=True)
    window_seconds = models.PositiveIntegerField(default=300)
    ca_certificate = models.TextField(blank=True, help_text="PEM: the authority the syslog server's certificate is checked against")
    # The HMAC secret (webhook) or secret access key (s3), kept in the credentials vault.
    credential = models.ForeignKey("crypto.Credential", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    streams = models.JSONField(default=list)
    enabled = models.BooleanField(default=True)
    audit_cursor = models.PositiveBigIntegerField(default=0)
    access_cursor = models.PositiveBigIntegerField(default=0)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    last_delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="siem_destination_name")]


class DeadLetter(TenantModel):
    destination = models.ForeignKey(SiemDestination, on_delete=models.CASCADE, related_name="dead_letters")
    stream = models.CharField(max_length=10)
    first_seq = models.PositiveBigIntegerField()
    last_seq = models.PositiveBigIntegerField()
    events = models.JSONField(default=list)
    error = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when an admin asks for the batch to be sent again: the next delivery run sends it (in sequence
    # order with the other re-queued ones) and removes it once the destination took it.
    requeued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
