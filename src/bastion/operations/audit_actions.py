"""The audit actions of operations: security monitoring's alerts."""

from bastion.audit.registry import register

SECURITY_ALERT_RAISED = "security.alert.raised"
SECURITY_ALERT_ACKNOWLEDGED = "security.alert.acknowledged"

register({
    SECURITY_ALERT_RAISED: "Security monitoring raised an alert from the audit events it names (chain and sequence "
                           "numbers)",
    SECURITY_ALERT_ACKNOWLEDGED: "An admin acknowledged a security alert",
})
