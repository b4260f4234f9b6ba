"""The audit actions of authentication."""

from bastion.audit.registry import action

AUTH_LOGIN_SUCCEEDED = action("auth.login.succeeded", "A user signed in")
AUTH_LOGIN_FAILED = action("auth.login.failed", "A sign-in attempt failed")
AUTH_LOGOUT = action("auth.logout", "A user signed out")
AUTH_LOGIN_REFUSED = action(
    "auth.login.refused",
    "A sign-in was refused unchecked: the account or the address is locked",
)
AUTH_LOCKOUT_STARTED = action(
    "auth.lockout.started",
    "Too many failed sign-ins: the account or the address is locked for a while",
)
AUTH_SESSION_ENDED_SUSPICIOUS = action(
    "auth.session.ended_suspicious",
    "A session was ended: its network and its browser both changed mid-session",
)
AUTH_SESSION_REVOKED = action("auth.session.revoked", "A user ended one of their sessions, or all their other sessions")
AUTH_PASSWORD_CHANGED = action("auth.password.changed", "A user changed their password (their other sessions end)")
AUTH_PASSWORD_RESET = action(
    "auth.password.reset",
    "A password was reset through an emailed link (every session of the account ends)",
)
AUTH_PASSWORD_RESET_REQUESTED = action("auth.password.reset_requested", "A password reset link was asked for")
AUTH_MFA_ADDED = action(
    "auth.mfa.added",
    "A second factor was added (authenticator app, security key or recovery codes)",
)
AUTH_MFA_REMOVED = action(
    "auth.mfa.removed",
    "A second factor was removed (recovery codes regenerated: the old set is removed)",
)
AUTH_MFA_FAILED = action("auth.mfa.failed", "A second-factor code or key was refused")
AUTH_SIGNUP = action("auth.signup", "A new account was created by signing up")
AUTH_SSO_REFUSED = action(
    "auth.sso.refused",
    "A single sign-on was refused: an address outside the verified domains, or a SAML assertion used before",
)
AUTH_SSO_FAILED = action(
    "auth.sso.failed",
    "A single sign-on attempt failed (bad signature, wrong audience, expired, cancelled)",
)
SSO_CONFIGURED = action("sso.configured", "The organisation's single sign-on connection was set up or changed")
SSO_REMOVED = action("sso.removed", "The organisation's single sign-on connection was removed")
SSO_DOMAIN_ADDED = action("sso.domain.added", "An email domain was claimed for single sign-on")
SSO_DOMAIN_VERIFIED = action("sso.domain.verified", "An email domain was proven by its DNS record")
SSO_DOMAIN_REMOVED = action("sso.domain.removed", "An email domain was given up")
AUTH_EMAIL_CONFIRMED = action("auth.email.confirmed", "An email address was confirmed")
INVITATION_CREATED = action(
    "invitation.created",
    "Someone was invited to a role (by a member, or by the platform from a grant never accepted)",
)
INVITATION_ACCEPTED = action(
    "invitation.accepted",
    "An invitation was accepted by the owner of its address: they became a member",
)
INVITATION_REVOKED = action("invitation.revoked", "An invitation was withdrawn before it was accepted")
INVITATION_RESENT = action(
    "invitation.renewed",
    "An invitation was sent again with a new link (the old link stopped working) and a new expiry",
)
