"""The audit actions of authentication."""

from bastion.audit.registry import register

register({
    "auth.login.succeeded": "A user signed in",
    "auth.login.failed": "A sign-in attempt failed",
    "auth.logout": "A user signed out",
    "auth.login.refused": "A sign-in was refused unchecked: the account or the address is locked",
    "auth.lockout.started": "Too many failed sign-ins: the account or the address is locked for a while",
    "auth.session.ended_suspicious": "A session was ended: its network and its browser both changed mid-session",
    "auth.session.revoked": "A user ended one of their sessions, or all their other sessions",
    "auth.password.changed": "A user changed their password (their other sessions end)",
    "auth.password.reset": "A password was reset through an emailed link (every session of the account ends)",
    "auth.password.reset_requested": "A password reset link was asked for",
    "auth.mfa.added": "A second factor was added (authenticator app, security key or recovery codes)",
    "auth.mfa.removed": "A second factor was removed (recovery codes regenerated: the old set is removed)",
    "auth.mfa.failed": "A second-factor code or key was refused",
    "auth.signup": "A new account was created by signing up",
    "auth.sso.refused": "A single sign-on was refused: an address outside the verified domains, or a SAML assertion used before",
    "auth.sso.failed": "A single sign-on attempt failed (bad signature, wrong audience, expired, cancelled)",
    "sso.configured": "The organisation's single sign-on connection was set up or changed",
    "sso.removed": "The organisation's single sign-on connection was removed",
    "sso.domain.added": "An email domain was claimed for single sign-on",
    "sso.domain.verified": "An email domain was proven by its DNS record",
    "sso.domain.removed": "An email domain was given up",
    "auth.email.confirmed": "An email address was confirmed",
    "invitation.created": "Someone was invited to a role (by a member, or by the platform from a grant never accepted)",
    "invitation.accepted": "An invitation was accepted by the owner of its address: they became a member",
    "invitation.revoked": "An invitation was withdrawn before it was accepted",
})
