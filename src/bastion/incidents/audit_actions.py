"""The audit actions of incidents (platform chain): incident response, and vulnerability reports.
Report events carry a report's reference and status, never what the reporter wrote nor who they are."""

from bastion.audit.registry import action

VULNERABILITY_REPORT_RECEIVED = action("security.report.received",
                                       "A researcher filed a vulnerability report through the public form")
VULNERABILITY_REPORT_STATUS_CHANGED = action(
    "security.report.status_changed",
    "Platform staff moved a vulnerability report (acknowledged, fixing, resolved, disclosed, rejected)")
VULNERABILITY_REPORT_TRIAGED = action("security.report.triaged",
                                      "Platform staff assessed a vulnerability report with a CVSS 4.0 vector")
VULNERABILITY_REPORT_LINKED = action("security.report.linked", "Platform staff linked a vulnerability report to an incident")
VULNERABILITY_REPORT_MESSAGE_ADDED = action("security.report.message_added",
                                            "The reporter or platform staff wrote on a vulnerability report")

INCIDENT_DECLARED = action("incident.declared", "Platform staff declared an incident (or an exercise) with a severity")
INCIDENT_COMMANDER_ASSIGNED = action("incident.commander.assigned", "Someone took command of an incident")
INCIDENT_PHASE_CHANGED = action("incident.phase.changed",
                                "An incident moved to its next phase (containment, eradication, recovery, …)")
INCIDENT_SEVERITY_CHANGED = action("incident.severity.changed", "An incident's severity was changed, with a reason")
INCIDENT_NOTE_ADDED = action("incident.note.added", "Platform staff wrote a note on an incident's timeline")
INCIDENT_STATUS_PAGE_UPDATED = action("incident.status_page.updated",
                                      "An incident's public status-page incident was opened or updated")
INCIDENT_REVIEWED = action("incident.reviewed", "The post-incident review was recorded with its follow-up actions")
INCIDENT_TIMER_ESCALATED = action("incident.timer.escalated",
                                  "An incident's response or resolution timer passed its target and was escalated")
BREACH_CONFIRMED = action("incident.breach.confirmed",
                          "Platform staff confirmed a personal data breach: the 72-hour notification clock starts")
BREACH_SCOPED = action("incident.breach.scoped",
                       "Platform staff worked out what a compromised subject read or changed in a window")
BREACH_NOTICE_DRAFTED = action("breach.notice.drafted", "A breach notice to an organisation was drafted from a scoping")
BREACH_NOTICE_EDITED = action("breach.notice.edited", "Platform staff changed a draft breach notice")
BREACH_NOTICE_SENT = action("breach.notice.sent",
                            "A breach notice was sent to an organisation's owners and admins (with any delay reason)")
