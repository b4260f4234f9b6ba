"""The audit actions of the audit log itself."""

from bastion.audit.registry import action

AUDIT_VERIFICATION_PASSED = action(
    "audit.verification.passed",
    "The daily or on-demand verification found the chain intact",
)
AUDIT_VERIFICATION_FAILED = action("audit.verification.failed", "Verification found the chain broken")
AUDIT_EXPORTED = action("audit.exported", "The organisation's audit log was exported")
AUDIT_SIGNING_KEY_ROTATED = action(
    "audit.signing_key.rotated",
    "A new key signs checkpoints; the old public key stays published to verify older ones",
)
AUDIT_EVENTS_PRUNED = action(
    "audit.events.pruned",
    "Events past their retention were pruned up to a signed checkpoint, where verification now starts",
)
