"""An admin acknowledges an alert: they have seen it and taken it in hand. Audited."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.operations.audit_actions import SECURITY_ALERT_ACKNOWLEDGED
from bastion.operations.models import SecurityAlert


def acknowledge(alert: SecurityAlert, *, by) -> SecurityAlert:
    """Mark ``alert`` acknowledged by ``by`` (a user); acknowledging it again changes nothing."""
    if alert.acknowledged_at is not None:
        return alert
    with transaction.atomic():
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by_label = by.get_username()
        alert.save(update_fields=["acknowledged_at", "acknowledged_by_label"])
        audit.record(SECURITY_ALERT_ACKNOWLEDGED, organisation_id=alert.organisation_id,
                     resource_type="security_alert", resource_id=alert.id,
                     changes={"rule": alert.rule, "subject": alert.subject})
    return alert
