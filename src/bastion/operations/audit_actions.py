"""The audit actions of the status page (platform chain)."""

from bastion.audit.registry import action

INCIDENT_CREATED = action("status.incident.created", "Platform staff opened an incident on the public status page")
INCIDENT_UPDATED = action("status.incident.updated",
                          "Platform staff posted an update to an incident (status and message)")
MAINTENANCE_SCHEDULED = action("status.maintenance.scheduled", "Platform staff scheduled maintenance on the status page")
MAINTENANCE_UPDATED = action("status.maintenance.updated", "Platform staff changed or cancelled scheduled maintenance")
