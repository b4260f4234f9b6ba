"""The audit actions of the status page (platform chain)."""

from bastion.audit.registry import register

INCIDENT_CREATED = "status.incident.created"
INCIDENT_UPDATED = "status.incident.updated"
MAINTENANCE_SCHEDULED = "status.maintenance.scheduled"
MAINTENANCE_UPDATED = "status.maintenance.updated"

register({
    INCIDENT_CREATED: "Platform staff opened an incident on the public status page",
    INCIDENT_UPDATED: "Platform staff posted an update to an incident (status and message)",
    MAINTENANCE_SCHEDULED: "Platform staff scheduled maintenance on the public status page",
    MAINTENANCE_UPDATED: "Platform staff changed or cancelled scheduled maintenance",
})
