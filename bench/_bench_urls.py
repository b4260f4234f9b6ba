"""Bastion's URLs plus ``/bare/``: the 50-row list with none of Bastion's layers (no authorization,
no tenant-scoped manager, no rate limit, no read-access log, no django-ninja), as
``record_list.py``'s bare view. Only the bench's own server loads it (``_bench_settings``)."""

from __future__ import annotations

import os
import uuid

from django.db import connection
from django.http import JsonResponse
from django.urls import include, path

from bastion.records.models import EmissionRecord
from bastion.tenancy import context

FIELDS = ["id", "project_id", "scope", "category", "activity", "quantity", "unit", "period_start", "period_end",
          "site", "supplier_id", "notes", "created_at", "updated_at"]
ORGANISATION_ID = uuid.UUID(os.environ["BASTION_BENCH_ORGANISATION_ID"])
PROJECT_ID = uuid.UUID(os.environ["BASTION_BENCH_PROJECT_ID"])


def bare_view(request):
    # On PostgreSQL the bare view must still set the organisation, or RLS returns no rows.
    if connection.vendor == "postgresql":
        context.activate(ORGANISATION_ID)
    rows = EmissionRecord.all_tenants.filter(project_id=PROJECT_ID)
    items = list(rows.order_by("-period_start", "activity").values(*FIELDS)[:50])
    return JsonResponse({"items": items, "count": rows.count()})


urlpatterns = [path("bare/", bare_view), path("", include("bastion.urls"))]
