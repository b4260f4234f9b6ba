"""The audit actions of disclosures (platform chain)."""

from bastion.audit.registry import action

SUBPROCESSORS_CHANGED = action("disclosures.subprocessors.changed",
                               "The declared sub-processor list changed and its notice was recorded for subscribers")
