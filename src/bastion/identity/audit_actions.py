"""The audit actions of authentication."""

from bastion.audit.registry import register

register({
    "auth.login.succeeded": "A user signed in",
    "auth.login.failed": "A sign-in attempt failed",
    "auth.logout": "A user signed out",
    "auth.login.refused": "A sign-in was refused unchecked: the account or the address is locked",
    "auth.lockout.started": "Too many failed sign-ins: the account or the address is locked for a while",
})
