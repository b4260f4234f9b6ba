"""The audit actions of incidents: vulnerability reports (platform chain). Events carry a report's
reference and status, never what the reporter wrote nor who they are."""

from bastion.audit.registry import action

VULNERABILITY_REPORT_RECEIVED = action("security.report.received",
                                       "A researcher filed a vulnerability report through the public form")
VULNERABILITY_REPORT_STATUS_CHANGED = action(
    "security.report.status_changed",
    "Platform staff moved a vulnerability report (acknowledged, fixing, resolved, disclosed, rejected)")
VULNERABILITY_REPORT_TRIAGED = action("security.report.triaged",
                                      "Platform staff assessed a vulnerability report with a CVSS 4.0 vector")
VULNERABILITY_REPORT_MESSAGE_ADDED = action("security.report.message_added",
                                            "The reporter or platform staff wrote on a vulnerability report")
