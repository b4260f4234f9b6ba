"""What crypto announces to the layers above it (which record it in the audit log)."""

from django.dispatch import Signal

# A customer-managed key wrapped or unwrapped one of its organisation's keys:
# organisation_id, key_arn, operation ("wrap" | "unwrap").
customer_key_used = Signal()
