"""allauth's user sessions, audited: ending sessions from the sessions page is a security event."""

from __future__ import annotations

from allauth.usersessions.adapter import DefaultUserSessionsAdapter

from bastion.identity import signin_events
from bastion.identity.audit_actions import AUTH_SESSION_REVOKED


class BastionUserSessionsAdapter(DefaultUserSessionsAdapter):
    def end_sessions(self, sessions) -> None:
        sessions = list(sessions)
        if sessions:
            signin_events.record_for_user(AUTH_SESSION_REVOKED, sessions[0].user,
                                          sessions=[{"id": s.pk, "ip": s.ip} for s in sessions])
        super().end_sessions(sessions)
