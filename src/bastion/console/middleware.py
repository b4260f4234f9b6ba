"""Turn the access layer's refusals into console pages: sign-in redirect, 404, 403, 400."""

from __future__ import annotations

import logging

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import render

from bastion.crypto.artifacts import ArtifactUnreadable
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
        if isinstance(exception, NotFound):
            return _render(request, "console/404.html", 404)
        if isinstance(exception, AccessDenied):
            return _render(request, "console/403.html", 403)
        if isinstance(exception, ValidationError):
            return _render(request, "console/400.html", 400, {"errors": exception.messages})
        if isinstance(exception, ArtifactUnreadable):
            logger.error("stored file unreadable: %s", exception)
            return _render(request, "console/400.html", 409,
                           {"errors": ["The stored file cannot be read: it was altered, lost or its keys destroyed."]})
        return None
