"""Ending one of your own sessions (allauth's page ends all the others at once)."""

from __future__ import annotations

from allauth.usersessions.internal.flows.sessions import end_sessions
from allauth.usersessions.models import UserSession
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from bastion.tenancy.access import authenticated


@authenticated
@require_POST
def end_session(request, session_id: int):
    session = UserSession.objects.filter(pk=session_id, user_id=request.user.pk).first()
    if session is None:  # someone else's session, or gone already: the same answer
        raise Http404("No such session.")
    current = session.is_current()
    end_sessions(request, [session])  # audited by the sessions adapter; the current one signs out
    if current:
        return redirect("account_login")
    messages.success(request, "The session was ended: that browser is signed out.")
    return redirect("usersessions_list")
