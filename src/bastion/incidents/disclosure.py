"""Coordinated vulnerability disclosure: a researcher's report from the public form to its
disclosure, on the timers the security pages promise (acknowledged within 2 business days, an
initial assessment within 5, 90 days before public disclosure, reporters credited).

Each step is one function: it checks the step is allowed from the report's status, changes the
report and appends its audit event (platform chain) in one transaction, and emails the reporter
once that transaction has committed. The audit events carry the reference and the status, never
what the reporter wrote nor who they are.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from cvss import CVSS4
from cvss.exceptions import CVSSError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.crypto import platform_secrets
from bastion.incidents import refusals, working_days
from bastion.incidents.audit_actions import (
    VULNERABILITY_REPORT_LINKED,
    VULNERABILITY_REPORT_MESSAGE_ADDED,
    VULNERABILITY_REPORT_RECEIVED,
    VULNERABILITY_REPORT_STATUS_CHANGED,
    VULNERABILITY_REPORT_TRIAGED,
)
from bastion.incidents.models import (
    ACKNOWLEDGED,
    DISCLOSED,
    FIXING,
    RECEIVED,
    REJECTED,
    RESOLVED,
    STAFF,
    TRIAGED,
    Incident,
    ReportMessage,
    VulnerabilityReport,
)

Clock = Callable[[], datetime.datetime]
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L: read aloud or retyped without doubt

# The steps staff take, from which statuses each is allowed.
MOVES = {
    ACKNOWLEDGED: {RECEIVED},
    TRIAGED: {ACKNOWLEDGED},
    FIXING: {TRIAGED},
    RESOLVED: {TRIAGED, FIXING},
    DISCLOSED: {RESOLVED},
    REJECTED: {RECEIVED, ACKNOWLEDGED, TRIAGED},
}
CREDITED = (RESOLVED, DISCLOSED)


class InvalidLink(Exception):
    """A reporter's private link that matches no report."""


class NotAllowed(refusals.NotAllowed):
    """The step is not allowed from the report's current status."""

    def __init__(self, report: VulnerabilityReport, step: str) -> None:
        super().__init__(f"{report.reference} is {report.status}: it cannot be moved to {step}")
        self.status, self.step = report.status, step


@dataclass(frozen=True)
class Received:
    report: VulnerabilityReport
    follow_token: str  # shown once, to the reporter (page and email); only its digest is stored


@dataclass(frozen=True)
class Details:
    description: str
    affected: str
    reporter_name: str
    reporter_email: str


@dataclass(frozen=True)
class Message:
    author: str
    body: str
    created_at: datetime.datetime


@dataclass(frozen=True)
class Timer:
    due: datetime.datetime
    done_at: datetime.datetime | None

    def late(self, now: datetime.datetime) -> bool:
        return (self.done_at or now) > self.due


@dataclass(frozen=True)
class Timers:
    acknowledge: Timer
    triage: Timer


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _seal(report_id: object, kind: str, value: str) -> str:
    return platform_secrets.seal(value, purpose=f"vulnerability_report:{kind}:{report_id}")


def _open(report_id: object, kind: str, token: str) -> str:
    return platform_secrets.open_sealed(token, purpose=f"vulnerability_report:{kind}:{report_id}")


def _text(errors: dict, name: str, value: str, limit: int, message: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if (required and not value) or len(value) > limit:
        errors[name] = ValidationError(message, code="invalid")
    return value


def _new_reference(now: datetime.datetime) -> str:
    while True:
        reference = f"BSR-{now.year}-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))
        if not VulnerabilityReport.objects.filter(reference=reference).exists():
            return reference


def receive(*, title: str, description: str, affected: str = "", reporter_name: str = "", reporter_email: str,
            wants_credit: bool = False, credit_name: str = "", base_url: str,
            clock: Clock = timezone.now) -> Received:
    limit = settings.BASTION_SECURITY_REPORT_MAX_CHARS
    errors: dict[str, ValidationError] = {}
    title = _text(errors, "title", title, 200, "Give the report a title (200 characters at most).")
    description = _text(errors, "description", description, limit,
                        f"Describe the vulnerability and how to reproduce it ({limit} characters at most).")
    affected = _text(errors, "affected", affected, 500, "The affected URL or component: 500 characters at most.",
                     required=False)
    reporter_name = _text(errors, "reporter_name", reporter_name, 100, "Your name: 100 characters at most.",
                          required=False)
    credit_name = _text(errors, "credit_name", credit_name or reporter_name, 100,
                        "The name to credit: 100 characters at most.", required=False)
    reporter_email = (reporter_email or "").strip()
    try:
        validate_email(reporter_email)
    except ValidationError:
        errors["reporter_email"] = ValidationError("Enter an email address we can answer you at.", code="invalid")
    if wants_credit and not credit_name:
        errors["credit_name"] = ValidationError("Say the name to credit you under.", code="required")
    if errors:
        raise ValidationError(errors)
    now = clock()
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        report = VulnerabilityReport(
            reference=_new_reference(now), follow_digest=_digest(token), title=title, wants_credit=wants_credit,
            credit_name=credit_name if wants_credit else "", received_at=now,
            disclosure_due=(now + datetime.timedelta(days=settings.BASTION_DISCLOSURE_WINDOW_DAYS)).date())
        report.sealed_details = _seal(report.id, "details", json.dumps({"description": description,
                                                                        "affected": affected}))
        report.sealed_reporter = _seal(report.id, "reporter", json.dumps({"name": reporter_name,
                                                                          "email": reporter_email}))
        report.save()
        audit.record(VULNERABILITY_REPORT_RECEIVED, organisation_id=None, resource_type="vulnerability_report",
                     resource_id=report.id, changes={"reference": report.reference,
                                                     "disclosure_due": report.disclosure_due.isoformat()})
        link = follow_url(base_url, token)
        transaction.on_commit(lambda: _email_reporter(report, "received", link))
        transaction.on_commit(lambda: _email_security_team(report, base_url))
    return Received(report, token)


def follow_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/security/reports/{token}"


def by_follow_token(token: str) -> VulnerabilityReport:
    report = VulnerabilityReport.objects.filter(follow_digest=_digest(token or "")).first()
    if report is None:
        raise InvalidLink()
    return report


def details(report: VulnerabilityReport) -> Details:
    body = json.loads(_open(report.id, "details", report.sealed_details))
    reporter = json.loads(_open(report.id, "reporter", report.sealed_reporter))
    return Details(body["description"], body["affected"], reporter["name"], reporter["email"])


def messages(report: VulnerabilityReport) -> list[Message]:
    return [Message(m.author, _open(m.id, "message", m.sealed_body), m.created_at) for m in report.messages.all()]


def add_message(report: VulnerabilityReport, *, author: str, body: str, base_url: str = "",
                clock: Clock = timezone.now) -> Message:
    errors: dict[str, ValidationError] = {}
    body = _text(errors, "body", body, settings.BASTION_SECURITY_REPORT_MAX_CHARS,
                 "Write a message (at most the report's size).")
    if errors:
        raise ValidationError(errors)
    now = clock()
    with transaction.atomic():
        message = ReportMessage(report=report, author=author, created_at=now)
        message.sealed_body = _seal(message.id, "message", body)
        message.save()
        audit.record(VULNERABILITY_REPORT_MESSAGE_ADDED, organisation_id=None, resource_type="vulnerability_report",
                     resource_id=report.id, changes={"reference": report.reference, "author": author})
        if author == STAFF:
            transaction.on_commit(lambda: _email_reporter(report, "message", ""))
    return Message(author, body, now)


def move(report: VulnerabilityReport, step: str, *, note: str = "", clock: Clock = timezone.now) -> VulnerabilityReport:
    """Acknowledge, start fixing, resolve, disclose or reject (triage has its own function: it scores)."""
    if step not in MOVES or step == TRIAGED:
        raise ValueError(f"unknown step {step!r}")
    now = clock()
    with transaction.atomic():
        report = VulnerabilityReport.objects.select_for_update().get(id=report.id)
        if report.status not in MOVES[step]:
            raise NotAllowed(report, step)
        previous = report.status
        report.status = step
        stamp = {ACKNOWLEDGED: "acknowledged_at", RESOLVED: "resolved_at", DISCLOSED: "disclosed_at"}.get(step)
        if stamp:
            setattr(report, stamp, now)
        report.save()
        audit.record(VULNERABILITY_REPORT_STATUS_CHANGED, organisation_id=None, resource_type="vulnerability_report",
                     resource_id=report.id, changes={"reference": report.reference, "from": previous, "to": step})
        if note:
            add_message(report, author=STAFF, body=note, clock=clock)
        transaction.on_commit(lambda: _email_reporter(report, step, ""))
    return report


def triage(report: VulnerabilityReport, *, cvss_vector: str, disclosure_due: datetime.date | None = None,
           clock: Clock = timezone.now) -> VulnerabilityReport:
    """The initial assessment: a CVSS 4.0 base vector, scored by the ``cvss`` library."""
    try:
        scored = CVSS4(cvss_vector.strip())
    except CVSSError as exc:
        raise ValidationError({"cvss_vector": ValidationError(f"Not a CVSS 4.0 vector: {exc}", code="invalid")}) from exc
    now = clock()
    with transaction.atomic():
        report = VulnerabilityReport.objects.select_for_update().get(id=report.id)
        if report.status not in MOVES[TRIAGED]:
            raise NotAllowed(report, TRIAGED)
        report.status, report.triaged_at = TRIAGED, now
        report.cvss_vector = scored.clean_vector()
        report.cvss_score = Decimal(str(scored.base_score))
        report.severity = scored.severity
        if disclosure_due:
            report.disclosure_due = disclosure_due
        report.save()
        audit.record(VULNERABILITY_REPORT_TRIAGED, organisation_id=None, resource_type="vulnerability_report",
                     resource_id=report.id, changes={"reference": report.reference, "cvss_vector": report.cvss_vector,
                                                     "cvss_score": str(report.cvss_score), "severity": report.severity,
                                                     "disclosure_due": report.disclosure_due.isoformat()})
        transaction.on_commit(lambda: _email_reporter(report, TRIAGED, ""))
    return report


def link_incident(report: VulnerabilityReport, reference: str) -> VulnerabilityReport:
    """Tie a report to the incident it became (or belongs to)."""
    incident = Incident.objects.filter(reference=reference.strip()).first()
    if incident is None:
        raise ValidationError({"incident": ValidationError("No incident has that reference.", code="invalid")})
    with transaction.atomic():
        report = VulnerabilityReport.objects.select_for_update().get(id=report.id)
        report.incident = incident
        report.save(update_fields=["incident"])
        audit.record(VULNERABILITY_REPORT_LINKED, organisation_id=None, resource_type="vulnerability_report",
                     resource_id=report.id, changes={"reference": report.reference, "incident": incident.reference})
    return report


def timers(report: VulnerabilityReport, calendar: working_days.WorkingCalendar | None = None) -> Timers:
    calendar = calendar or working_days.from_settings()
    return Timers(
        acknowledge=Timer(calendar.due(report.received_at, settings.BASTION_DISCLOSURE_ACKNOWLEDGE_DAYS),
                          report.acknowledged_at),
        triage=Timer(calendar.due(report.received_at, settings.BASTION_DISCLOSURE_TRIAGE_DAYS), report.triaged_at),
    )


def acknowledgments() -> list[VulnerabilityReport]:
    """Reports whose reporter agreed to be credited, once resolved (nothing unfixed is hinted at)."""
    return list(VulnerabilityReport.objects.filter(wants_credit=True, status__in=CREDITED)
                .exclude(credit_name="").order_by("-resolved_at"))


SUBJECTS = {
    "received": "We received your report {reference}",
    ACKNOWLEDGED: "Your report {reference} is acknowledged",
    TRIAGED: "Your report {reference} is assessed",
    FIXING: "We are fixing what you reported in {reference}",
    RESOLVED: "{reference} is resolved",
    DISCLOSED: "{reference} is disclosed",
    REJECTED: "Your report {reference} is closed",
    "message": "A new message about {reference}",
}


def _email_reporter(report: VulnerabilityReport, what: str, link: str) -> None:
    reporter = details(report)
    lines = [f"Reference: {report.reference}", f"Status: {report.get_status_display()}"]
    if report.severity:
        lines.append(f"Severity: {report.severity} ({report.cvss_score}, {report.cvss_vector})")
    if link:
        lines += ["", "Follow your report and write to us at this private link (keep it to yourself):", link]
    else:
        lines += ["", "Follow it at the private link we sent when you reported."]
    EmailMessage(f"[Bastion security] {SUBJECTS[what].format(reference=report.reference)}", "\n".join(lines),
                 to=[reporter.reporter_email]).send(fail_silently=True)


def _email_security_team(report: VulnerabilityReport, base_url: str) -> None:
    recipients = settings.BASTION_ALERT_EMAILS
    if recipients:
        EmailMessage(f"[Bastion security] New vulnerability report {report.reference}",
                     f"{report.title}\n\nAcknowledge it by "
                     f"{timers(report).acknowledge.due:%A %d %B %Y %H:%M %Z}.", to=recipients).send(fail_silently=True)

