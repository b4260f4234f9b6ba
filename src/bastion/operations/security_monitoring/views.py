"""The organisation's security alerts in the console: the list, newest first, and acknowledging one.

Wired under the console's organisation URLs (``console/urls.py`` includes ``urls.py`` here by name),
so the console's access layer, templates and isolation tests cover it like any console page.
"""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render

from bastion.operations.models import SecurityAlert
from bastion.operations.security_monitoring.acknowledging import acknowledge
from bastion.operations.security_monitoring.rules import TITLES
from bastion.tenancy.access import requires

PAGE_SIZE = 50


@requires("security.alerts.view")
def security_alerts(request, org):
    if request.method == "POST":
        return _acknowledge(request, org)
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET", "POST"])
    alerts = SecurityAlert.objects.filter(organisation_id=request.access.organisation.id).order_by("-raised_at")
    only_open = request.GET.get("open") == "1"
    if only_open:
        alerts = alerts.filter(acknowledged_at__isnull=True)
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"alert": alert, "title": TITLES.get(alert.rule, alert.rule),
             "events": [seq for _chain, seq in alert.events]} for alert in page]
    return render(request, "operations/security_alerts.html",
                  {"page": page, "rows": rows, "only_open": only_open,
                   "chain_id": request.access.organisation.id})


def _acknowledge(request, org):
    try:
        alert_id = uuid.UUID(request.POST.get("alert", ""))
    except ValueError:
        return render(request, "console/400.html", {"errors": ["Choose an alert to acknowledge."]}, status=400)
    alert = SecurityAlert.objects.filter(organisation_id=request.access.organisation.id, id=alert_id).first()
    if alert is None:
        return render(request, "console/404.html", status=404)
    acknowledge(alert, by=request.user)
    messages.success(request, "Alert acknowledged.")
    return redirect("console:security_alerts", org=org)
