"""allauth's clean-up of a user's session list at each sign-in, in a fixed number of queries.

allauth (``usersessions.signals.on_user_logged_in``) drops the user's session rows whose Django
session is gone or no longer signs that user in, by loading each session and its user one at a
time: three queries per session the user has, on every sign-in. Here the same decision is made
from two reads (the user's session rows; the live Django sessions among them) and one delete.
A session whose answer is not plain here (another user's id in it, another session engine, a
hash that only an old secret key verifies) is decided by allauth's own per-session check.
"""

from __future__ import annotations

from allauth.account.adapter import get_adapter
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

DB_ENGINE = "django.contrib.sessions.backends.db"


def _signs_in(data: dict, user) -> bool | None:
    """Whether a session's data signs ``user`` in (True/False), or None when that is not plain here."""
    if str(data.get(SESSION_KEY)) != str(user.pk):
        return None if SESSION_KEY in data else False
    if data.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS or not getattr(user, "is_active", True):
        return False
    session_hash = data.get(HASH_SESSION_KEY)
    if not session_hash:
        return False
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    return None  # maybe an old secret key's hash: Django's own check also rotates the session then


def purge_stale(user) -> list[UserSession]:
    """Drop ``user``'s session rows whose session is gone or does not sign them in; the others."""
    rows = list(UserSession.objects.filter(user_id=user.pk))
    if not rows:
        return []
    if settings.SESSION_ENGINE != DB_ENGINE:
        return [row for row in rows if not row.purge()]
    live = dict(Session.objects.filter(session_key__in=[row.session_key for row in rows],
                                       expire_date__gt=timezone.now()).values_list("session_key", "session_data"))
    store = SessionStore()
    kept: list[UserSession] = []
    stale: list[UserSession] = []
    for row in rows:
        data = live.get(row.session_key)
        verdict = False if data is None else _signs_in(store.decode(data), user)
        if verdict is None:
            verdict = not row.purge()
            if verdict:
                kept.append(row)
            continue
        (kept if verdict else stale).append(row)
    if stale:
        UserSession.objects.filter(pk__in=[row.pk for row in stale]).delete()
    return kept


def on_user_logged_in(sender, **kwargs) -> None:
    """Replaces allauth's receiver of the same name (same effect, see the module's docstring)."""
    request = kwargs["request"]
    purge_stale(request.user)
    session = request.session
    if session.session_key:
        try:  # the common case: the session key the sign-in just made has no row yet
            with transaction.atomic():
                UserSession.objects.create(
                    user=request.user, session_key=session.session_key, ip=get_adapter().get_client_ip(request),
                    user_agent=request.META.get("HTTP_USER_AGENT", "")[:UserSession._meta.get_field("user_agent").max_length])
            return
        except IntegrityError:  # it has one: allauth's own path below updates it
            pass
    UserSession.objects.create_from_request(request)  # allauth's own: updates a row and signals a client change
