"""Clients a session runs on: a sign-in from a new network *and* a new device is emailed to the
user (``BASTION_NEW_DEVICE_EMAIL``); a session whose network *and* user agent both change while it
runs is ended as likely stolen (``BASTION_SESSION_END_ON_CLIENT_CHANGE``).

Either change alone is ordinary (a laptop moves from office to home; a browser updates itself),
so only both together count.
"""

from __future__ import annotations

import hashlib
import ipaddress

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib.auth import logout
from django.db import transaction
from django.utils import timezone

from bastion.audit.context import client_address
from bastion.identity import signin_events
from bastion.identity.audit_actions import AUTH_SESSION_ENDED_SUSPICIOUS
from bastion.identity.models import KnownClient

SESSION_CLIENT = "bastion_client"


def network_of(address: str | None) -> str:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _user_agent_digest(request) -> str:
    return hashlib.sha256((request.META.get("HTTP_USER_AGENT") or "").encode()).hexdigest()


def client_of(request) -> dict:
    return {"network": network_of(client_address(request)), "agent": _user_agent_digest(request)}


def on_sign_in(request, user) -> None:
    client = client_of(request)
    request.session[SESSION_CLIENT] = client
    # One read of the user's known clients decides both "new" and which row to touch.
    known = list(KnownClient.objects.filter(user=user).values_list("id", "network", "user_agent_sha256"))
    is_new = (bool(known) and all(network != client["network"] for _, network, _ in known)
              and all(agent != client["agent"] for _, _, agent in known))
    same = [pk for pk, network, agent in known if network == client["network"] and agent == client["agent"]]
    if not same or not KnownClient.objects.filter(pk=same[0]).update(last_seen=timezone.now()):
        KnownClient.objects.update_or_create(user=user, network=client["network"], user_agent_sha256=client["agent"])
    if is_new and settings.BASTION_NEW_DEVICE_EMAIL:
        get_adapter(request).send_mail("identity/email/new_device", user.email, {
            "user": user, "address": client_address(request) or "unknown",
            "user_agent": (request.META.get("HTTP_USER_AGENT") or "unknown")[:200],
        })


class SuspiciousSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.BASTION_SESSION_END_ON_CLIENT_CHANGE and request.user.is_authenticated:
            started_on = request.session.get(SESSION_CLIENT)
            now_on = client_of(request)
            if started_on and started_on["network"] != now_on["network"] and started_on["agent"] != now_on["agent"]:
                _end_session(request, started_on["network"], now_on["network"])
        return self.get_response(request)


def _end_session(request, network_before: str, network_now: str) -> None:
    with transaction.atomic():
        signin_events.record_for_user(AUTH_SESSION_ENDED_SUSPICIOUS, request.user,
                                      network_before=network_before, network_now=network_now)
        logout(request)  # audited as a sign-out too
