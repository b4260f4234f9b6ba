"""The organisation's side, on its security pages (``/o/<org>/security/access/``): staff access
requests to approve or deny (also reached from the emailed, signed link), open grants to revoke,
the live feed of what staff did under grants, ended grants to review, and the approval policy."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from bastion.support_access import clock, notifications, requests, transparency
from bastion.support_access.models import AccessRequest
from bastion.tenancy.access import NotFound, requires

DECIDE = notifications.DECIDE_PERMISSION
FEED_LENGTH = 100


def _overview(request):
    organisation = request.access.organisation
    now = clock.now()
    rows = list(AccessRequest.objects.filter(organisation=organisation)[:200])
    return {
        "pending": [r for r in rows if r.state == "pending" and r.answer_by > now],
        "open": [r for r in rows if r.is_open_at(now)],
        "unreviewed": [r for r in rows if r.has_ended_at(now) and not r.reviewed],
        "history": rows,
        "feed": transparency.feed(organisation.id, limit=FEED_LENGTH), "live_feed": True,
        "approvers_required": requests.approvers_required(organisation.id),
        "now": now,
    }


@requires(DECIDE)
def access_overview(request, org):
    return render(request, "support_access/organisation_access.html", _overview(request))


@requires(DECIDE)
def access_feed(request, org):
    """The feed alone, newest first: the overview page's script fetches it every few seconds and
    swaps it in, so an admin watching the page sees staff activity as it happens."""
    response = render(request, "support_access/_feed.html", {"feed": transparency.feed(
        request.access.organisation.id, limit=FEED_LENGTH)})
    response["Cache-Control"] = "no-store"
    return response


@requires(DECIDE)
def access_request(request, org, access_request_id):
    """One request: its details, approve/deny, and what was done under it. The emailed link carries
    a token signed for one admin and this request; a token that does not verify is a 404."""
    found = get_object_or_404(AccessRequest, id=access_request_id, organisation=request.access.organisation)
    token = request.GET.get("t")
    if token is not None and not notifications.link_is_for(token, found, request.user):
        raise NotFound()
    return render(request, "support_access/access_request.html", {
        "r": found, "now": clock.now(), "signed_link": token is not None,
        "feed": transparency.feed(found.organisation_id, grant_id=found.id, limit=200),
    })


def _act(request, org, access_request_id, act, done: str):
    found = get_object_or_404(AccessRequest, id=access_request_id, organisation=request.access.organisation)
    try:
        act(found)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("console:access_overview", org=org)


@requires(DECIDE)
@require_POST
def approve(request, org, access_request_id):
    return _act(request, org, access_request_id, lambda r: requests.approve(r, request.user), "Approved.")


@requires(DECIDE)
@require_POST
def deny(request, org, access_request_id):
    return _act(request, org, access_request_id, lambda r: requests.deny(r, request.user), "Denied.")


@requires(DECIDE)
@require_POST
def revoke(request, org, access_request_id):
    return _act(request, org, access_request_id, lambda r: requests.revoke(r, request.user), "Revoked.")


@requires(DECIDE)
@require_POST
def review(request, org, access_request_id):
    return _act(request, org, access_request_id, lambda r: requests.review(r, request.user, as_staff=False),
                "Marked reviewed.")


@requires("organisation.manage")
@require_POST
def policy(request, org):
    try:
        requests.set_policy(request.access.organisation, int(request.POST.get("approvers_required", "0") or 0))
    except (ValidationError, ValueError):
        messages.error(request, "Choose one or two approvers.")
    else:
        messages.success(request, "Approval policy saved.")
    return redirect("console:access_overview", org=org)
