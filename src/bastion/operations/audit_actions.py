"""The audit actions of operations: the status page's incidents and maintenance (platform chain), and
security monitoring's alerts."""

from bastion.audit.registry import action

INCIDENT_CREATED = action("status.incident.created", "Platform staff opened an incident on the public status page")
INCIDENT_UPDATED = action("status.incident.updated",
                          "Platform staff posted an update to an incident (status and message)")
MAINTENANCE_SCHEDULED = action("status.maintenance.scheduled", "Platform staff scheduled maintenance on the status page")
MAINTENANCE_UPDATED = action("status.maintenance.updated", "Platform staff changed or cancelled scheduled maintenance")
SECURITY_ALERT_RAISED = action(
    "security.alert.raised",
    "Security monitoring raised an alert from the audit events it names (chain and sequence numbers)",
)
SECURITY_ALERT_ACKNOWLEDGED = action("security.alert.acknowledged", "An admin acknowledged a security alert")
