"""The audit actions of the read-access log."""

from bastion.audit.registry import action

ACCESS_LOG_SETTINGS_UPDATED = action("access_log.settings.updated", "What the read-access log records was changed")
