"""Sessions end after ``BASTION_SESSION_IDLE_SECONDS`` without a request (idle timeout, 30 min by
default) and ``BASTION_SESSION_AGE_SECONDS`` after sign-in whatever the activity (absolute
timeout, 8 h). Django's own cookie age alone is neither: it restarts whenever the session is saved.

The clock is ``now`` (a module attribute), so tests move time instead of sleeping.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib.auth import logout

STARTED, SEEN = "bastion_signed_in_at", "bastion_seen_at"
SEEN_RESOLUTION = 60  # seconds: "last seen" is written at most once a minute, not on every request

now = time.time


def on_login(sender, request, user, **kwargs) -> None:
    request.session[STARTED] = request.session[SEEN] = int(now())


class SessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            current = int(now())
            started = request.session.get(STARTED, current)
            seen = request.session.get(SEEN, current)
            if (current - seen > settings.BASTION_SESSION_IDLE_SECONDS
                    or current - started > settings.SESSION_COOKIE_AGE):
                logout(request)  # audited as a sign-out; the request goes on as anonymous
            else:
                request.session.setdefault(STARTED, started)
                if current - seen >= SEEN_RESOLUTION or SEEN not in request.session:
                    request.session[SEEN] = current
        return self.get_response(request)
