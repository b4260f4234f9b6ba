"""What the operations app keeps.

The public status page: component history, incidents, maintenance, subscribers — platform-level
tables (no ``organisation_id``): they describe the service, not any tenant's data, and are shown to
everyone, signed in or not. Security monitoring: alerts raised from the audit stream (an
organisation's are tenant rows under row-level security) and how far monitoring has read each chain.
"""

from __future__ import annotations

import uuid

from django.db import models

from bastion.tenancy.models import TenantModel

OPERATIONAL, DEGRADED, DOWN, MAINTENANCE = "operational", "degraded", "down", "under_maintenance"
STATES = [(OPERATIONAL, "Operational"), (DEGRADED, "Degraded performance"), (DOWN, "Outage"),
          (MAINTENANCE, "Under maintenance")]


class ComponentInterval(models.Model):
    """A stretch of time during which a component stayed in one state.

    One row per state change rather than one per minute: a component that is up for 90 days is a
    single row, so uptime over any window is a sum over the few intervals that overlap it. The
    newest interval of a component is extended (``checked_at``) by each minute's probe run; a gap
    of several minutes without probes (no job worker) starts a new interval, so unobserved time is
    never counted as up.
    """

    component = models.CharField(max_length=40)
    state = models.CharField(max_length=20, choices=STATES)
    started_at = models.DateTimeField()
    checked_at = models.DateTimeField()
    detail = models.CharField(max_length=300, blank=True)
    seconds = models.FloatField(default=0.0)  # the last probe's duration

    class Meta:
        indexes = [models.Index(fields=["component", "-checked_at"]), models.Index(fields=["checked_at"])]


IMPACTS = [("none", "None"), ("minor", "Minor"), ("major", "Major"), ("critical", "Critical")]
INCIDENT_STATUSES = [("investigating", "Investigating"), ("identified", "Identified"),
                     ("monitoring", "Monitoring"), ("resolved", "Resolved")]


class Incident(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    impact = models.CharField(max_length=10, choices=IMPACTS, default="minor")
    status = models.CharField(max_length=15, choices=INCIDENT_STATUSES, default="investigating")
    components = models.JSONField(default=list)  # component keys
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class IncidentUpdate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=15, choices=INCIDENT_STATUSES)
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]


MAINTENANCE_STATUSES = [("scheduled", "Scheduled"), ("in_progress", "In progress"), ("completed", "Completed"),
                        ("cancelled", "Cancelled")]


class Maintenance(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    title = models.CharField(max_length=200)
    body = models.TextField(max_length=5000, blank=True)
    components = models.JSONField(default=list)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    cancelled = models.BooleanField(default=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-starts_at"]

    def status_at(self, now) -> str:
        if self.cancelled:
            return "cancelled"
        if now < self.starts_at:
            return "scheduled"
        return "in_progress" if now < self.ends_at else "completed"


class Subscriber(models.Model):
    """An address that asked for incident emails. Personal data, kept minimal: the address, whether
    its owner confirmed it, and when it asked (unconfirmed rows are deleted once their link expires)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    confirmed = models.BooleanField(default=False)
    created_at = models.DateTimeField()



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
