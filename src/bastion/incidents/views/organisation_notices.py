"""The breach notices an organisation received, in its console (``o/<org>/security/notices/``,
included by ``console/urls.py``), for members holding ``security.notices.view``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bastion.incidents import notifications
from bastion.incidents.models import SENT, BreachNotice
from bastion.tenancy.access import requires


@requires("security.notices.view")  # first: another organisation's page is 404 whatever the method
@require_GET
def notices(request: HttpRequest, org: str) -> HttpResponse:
    organisation = request.access.organisation  # type: ignore[attr-defined]
    sent = (BreachNotice.objects.filter(organisation_id=organisation.id, status=SENT).select_related("incident")
            .order_by("-sent_at"))
    return render(request, "incidents/organisation_notices.html", {
        "notices": [{"notice": n, "text": notifications.render_text(n, organisation)} for n in sent]})
