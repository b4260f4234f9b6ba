"""allauth's session tracking (the sessions page's address, browser and "last seen"), at most once a
minute per session instead of on every request: allauth's own middleware reads and rewrites the
session's row each time, two queries on every signed-in request for a "last seen" shown in minutes."""

from __future__ import annotations

import time

from allauth.usersessions.internal import usersessionkit

TRACKED_AT = "bastion_activity_tracked_at"
RESOLUTION = 60  # seconds

now = time.time


class SessionActivityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user, session = getattr(request, "user", None), getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None and session.session_key:
            current = int(now())
            if current - session.get(TRACKED_AT, 0) >= RESOLUTION:
                usersessionkit.track_activity(request, user=user, session=session)
                session[TRACKED_AT] = current
        return self.get_response(request)
