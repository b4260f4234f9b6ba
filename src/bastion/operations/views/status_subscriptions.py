"""Subscribing to incident emails: the form, the confirm link (double opt-in) and the one-click
unsubscribe (RFC 8058: the mail client POSTs ``List-Unsubscribe=One-Click`` to the link, without
a CSRF token or a session — the signed link is the authority, and it can only remove)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from bastion.operations import subscriptions, summary
from bastion.operations.views.status_page import base_url
from bastion.tenancy.access import public


def _wants_json(request) -> bool:
    return not request.accepts("text/html")


def _invalid_link(request):
    if _wants_json(request):
        return JsonResponse({"error": {"code": "invalid_link", "message": "This link is not valid or has expired.",
                                       "fields": {}}}, status=400)
    return render(request, "operations/subscription.html", {"outcome": "invalid"}, status=400)


@public
@require_POST
def subscribe(request):
    try:
        email = subscriptions.normalise(request.POST.get("email", ""))
    except ValidationError as exc:
        errors = {name: [{"code": e.code, "message": e.message} for e in errs]
                  for name, errs in exc.error_dict.items()}
        if _wants_json(request):
            return JsonResponse({"error": {"code": "invalid", "message": "Enter a valid email address.",
                                           "fields": errors}}, status=400)
        return render(request, "operations/status.html", {
            "summary": summary.summary(base_url(request)), "recent_incidents": summary.recent_incidents(),
            "subscribe_error": "Enter a valid email address.",
        }, status=400)
    from bastion.operations.tasks import send_subscription_link

    send_subscription_link(email, base_url(request))  # in a job: the answer is the same, and as fast, for any address
    if _wants_json(request):
        return JsonResponse({"status": "pending_confirmation"}, status=202)
    return render(request, "operations/subscription.html", {"outcome": "check_inbox"}, status=202)


@public
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """GET shows a button (mail scanners that open links must not subscribe anyone); POST confirms."""
    if request.method == "POST":
        try:
            subscriptions.confirm(token)
        except subscriptions.InvalidLink:
            return _invalid_link(request)
        return render(request, "operations/subscription.html", {"outcome": "confirmed"})
    return render(request, "operations/subscription.html", {"outcome": "confirm", "token": token})


@public
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    try:
        subscriptions.check_unsubscribe(token)
    except subscriptions.InvalidLink:
        return _invalid_link(request)
    if request.method == "POST":
        subscriptions.unsubscribe(token)
        return render(request, "operations/subscription.html", {"outcome": "unsubscribed"})
    return render(request, "operations/subscription.html", {"outcome": "unsubscribe", "token": token})
