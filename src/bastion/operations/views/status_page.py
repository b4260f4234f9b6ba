"""The public status page (``/status``), its JSON summary (``/status.json``) and incident pages.
Open to anyone, signed in or not; the same headers and CSP as every other page."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from bastion.operations import summary
from bastion.operations.models import Incident
from bastion.tenancy.access import public


def base_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@public
@require_safe
def status(request):
    data = summary.summary(base_url(request))
    return render(request, "operations/status.html", {
        "summary": data, "recent_incidents": summary.recent_incidents(),
    })


@public
@require_safe
def status_json(request):
    response = JsonResponse(summary.summary(base_url(request)))
    response["Access-Control-Allow-Origin"] = "*"  # public data, read by status widgets on other sites
    return response


@public
@require_safe
def incident(request, incident_id):
    try:
        found = Incident.objects.prefetch_related("updates").get(id=incident_id)
    except Incident.DoesNotExist as exc:
        raise Http404 from exc
    return render(request, "operations/incident.html", {"incident": found})
