"""The audit actions of the trust app (platform chain)."""

from bastion.audit.registry import action

CHECKS_RUN = action("trust.checks.run",
                    "The trust checks ran against the deployment: one event per run with each check's result "
                    "and the SHA-256 of its evidence, and the run's signature by the platform key")
CONTROL_NOTE_SET = action("trust.control.noted", "Platform staff set the operator's note shown next to a control")
