"""The audit actions of the read-access log."""

from bastion.audit.registry import action

ACCESS_LOG_SETTINGS_UPDATED = action("access_log.settings.updated", "What the read-access log records was changed")
ACCESS_LOG_VERIFICATION_PASSED = action("access_log.verification.passed",
                                        "The daily or on-demand verification found the read-access log intact")
ACCESS_LOG_VERIFICATION_FAILED = action("access_log.verification.failed",
                                        "Verification found the read-access log broken")
