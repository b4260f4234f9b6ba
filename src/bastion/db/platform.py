"""The platform's own id: the chain of platform-level audit events, the platform's data keys and any
other platform-owned row use it where an organisation's id would be. Django-free, because the audit
wire format (and the offline verifier built on it) names the platform chain by it."""

PLATFORM_ID = "00000000-0000-0000-0000-000000000000"
