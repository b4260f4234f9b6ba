"""Rows the operations app keeps: security alerts raised from the audit stream, and how far
monitoring has read each chain."""

from __future__ import annotations

import uuid

from django.db import models

from bastion.tenancy.models import TenantModel


class AlertFields(models.Model):
    """What an alert says, for an organisation's alerts and the platform's alike."""

    rule = models.CharField(max_length=60)
    severity = models.CharField(max_length=10, default="high")
    subject = models.CharField(max_length=300)  # what it is about: an account, a network, an API key
    summary = models.CharField(max_length=1000)
    # The same incident never raises two alerts: a replay finds this key (or the incident still open).
    dedup_key = models.CharField(max_length=400)
    # The audit events behind the alert: [[chain id, sequence number], …], oldest first (capped).
    events = models.JSONField(default=list)
    event_count = models.PositiveIntegerField(default=0)
    first_event_at = models.DateTimeField()
    last_event_at = models.DateTimeField()
    raised_at = models.DateTimeField(auto_now_add=True)
    raised_event_seq = models.PositiveBigIntegerField(null=True, blank=True)  # its own security.alert.raised event
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by_label = models.CharField(max_length=254, blank=True)

    class Meta:
        abstract = True


class SecurityAlert(TenantModel, AlertFields):
    """An alert to an organisation's admins (console and email)."""

    class Meta:
        ordering = ["-raised_at"]
        constraints = [models.UniqueConstraint(fields=["organisation", "dedup_key"], name="security_alert_dedup")]
        indexes = [models.Index(fields=["organisation", "rule", "subject", "last_event_at"])]


class PlatformSecurityAlert(AlertFields):
    """An alert to the platform's operators (patterns on the platform's chain: sign-in attempts at
    accounts that do not exist). Readable in platform scope only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)

    class Meta:
        ordering = ["-raised_at"]
        constraints = [models.UniqueConstraint(fields=["dedup_key"], name="platform_security_alert_dedup")]
        indexes = [models.Index(fields=["rule", "subject", "last_event_at"])]


class MonitorCursor(models.Model):
    """The last sequence number of a chain that security monitoring has read."""

    chain_id = models.UUIDField(primary_key=True)
    seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)


class SignInFailure(models.Model):
    """A failed (or refused) sign-in seen in any chain, reduced to what the platform-wide spraying
    rule counts: the network and a digest of the account tried (the name itself stays in its chain).
    Platform rows; pruned once older than the spraying window."""

    id = models.BigAutoField(primary_key=True)
    chain_id = models.UUIDField()
    seq = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    network = models.CharField(max_length=50)
    account_sha256 = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain_id", "seq"], name="sign_in_failure_event")]
        indexes = [models.Index(fields=["network", "occurred_at"])]
