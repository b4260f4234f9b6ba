"""The audit actions of data protection. Events about a person go to the platform chain; events
about an organisation's data go to that organisation's chain."""

from bastion.audit.registry import action

PERSONAL_EXPORT_REQUESTED = action("privacy.personal_export.requested", "A person asked for a copy of their data")
PERSONAL_EXPORT_BUILT = action("privacy.personal_export.built", "A person's data export was built, encrypted, for one download")
PERSONAL_EXPORT_DOWNLOADED = action("privacy.personal_export.downloaded",
                                    "A person downloaded their data export (and it was deleted as they did)")
PERSONAL_EXPORT_EXPIRED = action("privacy.personal_export.expired",
                                 "A person's data export was deleted, never downloaded, when it expired")
PROFILE_CORRECTED = action("privacy.profile.corrected", "A person corrected their profile")
ACCOUNT_DELETION_REQUESTED = action("privacy.account_deletion.requested",
                                    "A person asked for their account to be deleted after the grace period")
ACCOUNT_DELETION_CANCELLED = action("privacy.account_deletion.cancelled", "A pending account deletion was cancelled")
PERSON_ERASED = action("privacy.person.erased", "A person's personal data was erased (what was kept, and why, is listed)")
ERASURE_SUSPENDED = action("privacy.erasure.suspended", "An erasure was suspended by a legal hold")
SUBJECT_REQUEST_RECORDED = action("privacy.subject_request.recorded",
                                  "Platform staff recorded a data-subject request that arrived by email")
SUBJECT_REQUEST_UPDATED = action("privacy.subject_request.updated",
                                 "A data-subject request's verification or status changed")
ORGANISATION_EXPORTED = action("privacy.organisation.exported",
                               "An owner exported the organisation's data (records, files, members, audit log)")
ORGANISATION_DELETION_SCHEDULED = action("privacy.organisation_deletion.scheduled",
                                         "An organisation's deletion was scheduled after the grace period")
ORGANISATION_DELETION_CANCELLED = action("privacy.organisation_deletion.cancelled",
                                         "A scheduled organisation deletion was cancelled")
RETENTION_POLICY_CHANGED = action("privacy.retention_policy.changed",
                                  "An organisation tightened or lengthened a retention period")
RETENTION_ENFORCED = action("privacy.retention.enforced", "Data past its retention period was deleted")
RETENTION_COMPLETED = action("privacy.retention.completed",
                             "The retention job ran over every organisation (what it deleted and kept, even when nothing)")
LEGAL_HOLD_PLACED = action("privacy.legal_hold.placed", "A legal hold suspended deletion and erasure of what it covers")
LEGAL_HOLD_RELEASED = action("privacy.legal_hold.released", "A legal hold was released")
