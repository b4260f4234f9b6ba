"""The audit actions of authentication."""

from bastion.audit.registry import register

register({
    "auth.login.succeeded": "A user signed in",
    "auth.login.failed": "A sign-in attempt failed",
    "auth.logout": "A user signed out",
})
