"""Security incidents that platform staff respond to (``Incident`` and what hangs on it), and
vulnerability reports from outside researchers with the messages exchanged about each.

An ``Incident`` here is the response record: severity, phase, commander, timers, timeline, review.
What the public reads is a status-page incident (``operations.models.Incident``), which a response
incident may link to and whose updates staff write from it.

A report is platform data (no organisation owns it). What a researcher writes describes a
weakness that may not be fixed yet, and their address is personal data, so both are sealed with
the platform's data key (``crypto.platform_secrets``, bound to the report's id); the database
holds ciphertext. The private link a reporter follows is stored as a SHA-256 digest only.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from bastion.tenancy.models import TenantModel

CRITICAL, HIGH, MEDIUM, LOW = "critical", "high", "medium", "low"
SEVERITIES = [(CRITICAL, "Critical"), (HIGH, "High"), (MEDIUM, "Medium"), (LOW, "Low")]

IDENTIFICATION = "identification"
CONTAINMENT = "containment"
ERADICATION = "eradication"
RECOVERY = "recovery"
LESSONS_LEARNED = "lessons_learned"
CLOSED = "closed"
PHASES = [(IDENTIFICATION, "Identification"), (CONTAINMENT, "Containment"), (ERADICATION, "Eradication"),
          (RECOVERY, "Recovery"), (LESSONS_LEARNED, "Lessons learned"), (CLOSED, "Closed")]

MANUAL, SECURITY_ALERT, PLATFORM_SECURITY_ALERT, STATUS_COMPONENT = (
    "manual", "security_alert", "platform_security_alert", "status_component")
SOURCES = [(MANUAL, "Declared by hand"), (SECURITY_ALERT, "An organisation's security alert"),
           (PLATFORM_SECURITY_ALERT, "A platform security alert"), (STATUS_COMPONENT, "A failing status component")]

RESPONSE, RESOLUTION = "response", "resolution"
TIMERS = [(RESPONSE, "Response"), (RESOLUTION, "Resolution")]


class Incident(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(max_length=20, unique=True)  # INC-2026-7K3QX9
    title = models.CharField(max_length=200)
    summary = models.TextField(max_length=5000, blank=True)
    severity = models.CharField(max_length=10, choices=SEVERITIES)
    phase = models.CharField(max_length=20, choices=PHASES, default=IDENTIFICATION)
    exercise = models.BooleanField(default=False)  # a tabletop: synthetic, marked everywhere, never sent to customers
    source = models.CharField(max_length=30, choices=SOURCES, default=MANUAL)
    source_ref = models.CharField(max_length=100, blank=True)  # the alert's id or the component's key
    components = models.JSONField(default=list)  # status-page component keys concerned
    organisations = models.JSONField(default=list)  # ids of the organisations known to be concerned (str)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    commander = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    declared_at = models.DateTimeField()  # the timers start here
    responded_at = models.DateTimeField(null=True, blank=True)  # a commander took it
    resolved_at = models.DateTimeField(null=True, blank=True)  # recovery done (entered lessons learned)
    closed_at = models.DateTimeField(null=True, blank=True)
    status_incident = models.ForeignKey("operations.Incident", null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="+")
    review = models.TextField(max_length=20000, blank=True)  # the post-incident review
    reviewed_at = models.DateTimeField(null=True, blank=True)
    breach_confirmed_at = models.DateTimeField(null=True, blank=True)  # a personal data breach: the 72-hour clock

    class Meta:
        ordering = ["-declared_at"]

    def __str__(self) -> str:
        return self.reference


class IncidentNote(models.Model):
    """One line of an incident's own timeline: a staff note, or a change made to the incident."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=20)  # note, declared, phase, severity, commander, status_update, escalation, review
    body = models.TextField(max_length=5000)
    author_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]


class FollowUpAction(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="follow_ups")
    title = models.CharField(max_length=300)
    owner = models.CharField(max_length=254, blank=True)
    due_on = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)


class Escalation(models.Model):
    """A timer that passed its target, escalated once (email and webhook)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="escalations")
    timer = models.CharField(max_length=20, choices=TIMERS)
    due_at = models.DateTimeField()
    escalated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["incident", "timer"], name="one_escalation_per_timer")]

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
    incident = models.ForeignKey("Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports")

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


class ScopingResult(models.Model):
    """What a compromised account, key, token, staff grant or network read or changed in a window,
    worked out from the audit and read-access logs (``scoping.py``); kept with the incident as
    evidence. ``digest`` is the SHA-256 of the canonical result: re-running gives the same one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="scopings")
    subject_kind = models.CharField(max_length=20)  # user, api_key, scim_token, staff_grant, network
    subject = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    result = models.JSONField()
    digest = models.CharField(max_length=64)
    run_at = models.DateTimeField()
    run_by_label = models.CharField(max_length=254, blank=True)

    class Meta:
        ordering = ["-run_at"]


DRAFT, SENT = "draft", "sent"
NOTICE_STATUSES = [(DRAFT, "Draft"), (SENT, "Sent")]


class BreachNotice(TenantModel):
    """A personal-data-breach notice to one organisation (GDPR Art. 33(3)'s items), drafted from a
    scoping result, reviewed and sent by staff, possibly in phases (Art. 33(4)). The organisation's
    own row: row-level security lets it read its notices, and no other organisation's."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notices")
    phase = models.PositiveSmallIntegerField(default=1)
    exercise = models.BooleanField(default=False)
    nature = models.TextField(max_length=5000)
    data_categories = models.JSONField(default=list)  # [{"category": "emissions", "records": 3}, …]
    approx_subjects = models.PositiveIntegerField(default=0)
    approx_records = models.PositiveIntegerField(default=0)
    contact_point = models.TextField(max_length=1000)
    likely_consequences = models.TextField(max_length=5000, blank=True)
    measures = models.TextField(max_length=5000, blank=True)
    status = models.CharField(max_length=10, choices=NOTICE_STATUSES, default=DRAFT)
    drafted_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_by_label = models.CharField(max_length=254, blank=True)
    delay_reason = models.TextField(max_length=2000, blank=True)  # required when sent after the 72 hours

    class Meta:
        ordering = ["-drafted_at"]
        constraints = [models.UniqueConstraint(fields=["incident", "organisation", "phase"],
                                               name="one_notice_per_phase")]
