"""Turn the access layer's refusals into console pages: sign-in redirect, 404, 403, 400."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from bastion.crypto import customer_kms
from bastion.crypto.artifacts import ArtifactUnreadable
from bastion.identity.mfa import policy as mfa_policy
from bastion.identity.mfa.step_up import REAUTHENTICATE_URL, StepUpRequired
from bastion.tenancy.access import AccessDenied, NotFound, Unauthenticated

logger = logging.getLogger("bastion.console")


def _is_json_api(request) -> bool:
    # The JSON API (django-ninja, app name "ninja") answers its own errors in JSON.
    match = getattr(request, "resolver_match", None)
    return match is not None and "ninja" in match.app_names


def _render(request, template: str, status: int, context: dict | None = None):
    # The view's transaction was rolled back with the exception; rendering queries need their own.
    with transaction.atomic():
        return render(request, template, context, status=status)


class AccessDeniedMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if _is_json_api(request):
            return None
        if isinstance(exception, Unauthenticated):
            return redirect_to_login(request.get_full_path())
        if isinstance(exception, StepUpRequired):
            return _step_up(request)
        if isinstance(exception, NotFound):
            return _render(request, "console/404.html", 404)
        if isinstance(exception, AccessDenied):
            return _render(request, "console/403.html", 403)
        if isinstance(exception, ValidationError):
            return _render(request, "console/400.html", 400, {"errors": exception.messages})
        if customer_kms.unavailable_in(exception):
            return _render(request, "console/400.html", 503, {"errors": [customer_kms.UNAVAILABLE_MESSAGE]})
        if isinstance(exception, ArtifactUnreadable):
            logger.error("stored file unreadable: %s", exception)
            return _render(request, "console/400.html", 409,
                           {"errors": ["The stored file cannot be read: it was altered, lost or its keys destroyed."]})
        return None


def _step_up(request):
    """Off to confirm the second factor, then back to the page the action was started from (a form
    is sent again by its user, never replayed for them)."""
    if not mfa_policy.has_second_factor(request.user):
        messages.warning(request, "This needs a second factor: set one up first.")
        return redirect("mfa_index")
    back = request.get_full_path() if request.method == "GET" else request.META.get("HTTP_REFERER", "/")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = "/"
    messages.info(request, "Confirm it is you with your second factor, then do it again.")
    return redirect(f"{REAUTHENTICATE_URL}?{urlencode({'next': back})}")
