"""Raising an alert from a finding: the alert row and its ``security.alert.raised`` event in the
transaction that also moves the chain's cursor; the email and the log line once it commits.

An organisation's alert goes to its chain and to the members who may see alerts
(``security.alerts.view``); a platform alert (found on the platform's chain) goes to the platform's
chain, ``BASTION_ALERT_EMAILS`` and the platform's staff. Every alert is also a log line with ids only.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet

from bastion.audit import chain as audit
from bastion.operations.audit_actions import SECURITY_ALERT_RAISED
from bastion.operations.models import PlatformSecurityAlert, SecurityAlert
from bastion.operations.security_monitoring.rules import MAX_LINKED_EVENTS, TITLES, Finding
from bastion.support_access.staff import staff_emails
from bastion.tenancy import members

logger = logging.getLogger("bastion.operations.security")

VIEW_PERMISSION = "security.alerts.view"


@dataclass(frozen=True)
class RaisedAlert:
    id: uuid.UUID
    rule: str
    organisation_id: uuid.UUID | None  # None: a platform alert
    subject: str
    events: int


def _refs(events) -> list[list]:
    return [[str(event.chain_id), event.seq] for event in events]


def _alerts_of(organisation_id: uuid.UUID | None) -> QuerySet[SecurityAlert] | QuerySet[PlatformSecurityAlert]:
    if organisation_id:
        return SecurityAlert.objects.filter(organisation_id=organisation_id)
    return PlatformSecurityAlert.objects.all()


def incident_is_open(organisation_id: uuid.UUID | None, rule: str, subject: str, at: datetime.datetime,
                     window_seconds: int) -> bool:
    """Whether an alert of ``rule`` and ``subject`` has its last event within the window before ``at``."""
    alerts = _alerts_of(organisation_id)
    return alerts.filter(rule=rule, subject=subject[:300],
                         last_event_at__gte=at - datetime.timedelta(seconds=window_seconds)).exists()


def raise_alert(finding: Finding, organisation_id: uuid.UUID | None) -> RaisedAlert | None:
    """Store and announce ``finding``, or fold it into the open incident it belongs to (``None``)."""
    model = SecurityAlert if organisation_id else PlatformSecurityAlert
    alerts = _alerts_of(organisation_id)
    last = finding.events[-1]
    if finding.window_seconds:
        window_start = last.occurred_at - datetime.timedelta(seconds=finding.window_seconds)
        incident = (alerts.select_for_update().filter(rule=finding.rule, subject=finding.subject[:300],
                                                      last_event_at__gte=window_start)
                    .order_by("-last_event_at").first())
        if incident is not None:
            _extend(incident, finding)
            return None
    if alerts.filter(dedup_key=finding.dedup_key).exists():
        return None
    alert = model(rule=finding.rule, subject=finding.subject[:300], summary=finding.summary[:1000],
                  dedup_key=finding.dedup_key, events=_refs(finding.events), event_count=len(finding.events),
                  first_event_at=finding.events[0].occurred_at, last_event_at=last.occurred_at)
    if isinstance(alert, SecurityAlert) and organisation_id:
        alert.organisation_id = organisation_id
    alert.save(force_insert=True)
    event = audit.record(SECURITY_ALERT_RAISED, organisation_id=organisation_id, resource_type="security_alert",
                         resource_id=alert.id,
                         changes={"rule": alert.rule, "subject": alert.subject, "events": alert.events})
    alert.raised_event_seq = event.seq
    alert.save(update_fields=["raised_event_seq"])
    raised = RaisedAlert(alert.id, alert.rule, organisation_id, alert.subject, alert.event_count)
    recipients = _organisation_recipients() if organisation_id else _platform_recipients()
    transaction.on_commit(lambda: _announce(alert, raised, recipients))
    return raised


def _extend(incident, finding: Finding) -> None:
    """Later events of an open incident: counted, and linked up to ``MAX_LINKED_EVENTS``; once the
    links are full, only events newer than the incident's last one count (a replay adds nothing)."""
    known = {(chain, seq) for chain, seq in incident.events}
    full = len(incident.events) >= MAX_LINKED_EVENTS
    new = [event for event in finding.events if (str(event.chain_id), event.seq) not in known
           and not (full and event.occurred_at <= incident.last_event_at)]
    if not new:
        return
    incident.event_count += len(new)
    incident.last_event_at = max(incident.last_event_at, new[-1].occurred_at)
    fields = ["event_count", "last_event_at"]
    if not full:
        incident.events = (incident.events + _refs(new))[:MAX_LINKED_EVENTS]
        fields.append("events")
    incident.save(update_fields=fields)


def _organisation_recipients() -> list[str]:
    """Active members of the organisation being read whose organisation-wide role may see alerts."""
    return [user.email for user in members.holding(VIEW_PERMISSION)]


def _platform_recipients() -> list[str]:
    """The platform's alert addresses and the security-role staff (not support or operators)."""
    return sorted(set(settings.BASTION_ALERT_EMAILS) | set(staff_emails("security")))


def _announce(alert, raised: RaisedAlert, recipients: list[str]) -> None:
    logger.warning("security alert raised: rule=%s alert=%s organisation=%s events=%d", raised.rule, raised.id,
                   raised.organisation_id or "platform", raised.events)
    where = f"organisation {raised.organisation_id}" if raised.organisation_id else "the platform"
    subject = f"[Bastion] security alert: {TITLES.get(alert.rule, alert.rule)}"
    body = (f"{alert.summary}\n\nRule: {alert.rule}\nAlert: {alert.id} ({where})\n"
            f"Audit events behind it (chain, sequence number): "
            + ", ".join(f"{chain}#{seq}" for chain, seq in alert.events[:20])
            + (" …" if len(alert.events) > 20 else "")
            + "\n\nSee the organisation's security alerts in the console, and acknowledge the alert there.\n")
    for address in recipients:  # one message each: recipients never see each other's addresses
        try:
            send_mail(subject, body, None, [address])
        except OSError:
            logger.exception("could not email security alert %s", raised.id)
