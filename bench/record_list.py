"""Authenticated record list (50 rows) through every layer vs the same query in a bare Django view.

    uv run python bench/record_list.py [--requests N]          # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/record_list.py   # PostgreSQL, app role

Both go through the same test client and middleware; the difference is what Bastion adds:
session → membership → permission, the tenant context (RLS setting on PostgreSQL), the tenant-scoped
manager, django-ninja validation and serialisation.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import acme_with_records, setup_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    setup_database()

    from django.db import connection
    from django.http import JsonResponse
    from django.test import Client, override_settings
    from django.urls import include, path

    from bastion.records.models import EmissionRecord
    from bastion.tenancy import context

    user, organisation, project = acme_with_records()

    fields = ["id", "project_id", "scope", "category", "activity", "quantity", "unit", "period_start", "period_end",
              "site", "supplier_id", "notes", "created_at", "updated_at"]

    def bare_view(request):
        # The same query with no authorization and no tenant context: what the layers are measured against.
        # On PostgreSQL the bare view must still set the organisation, or RLS returns no rows.
        if connection.vendor == "postgresql":
            context.activate(organisation.id)
        rows = list(EmissionRecord.all_tenants.filter(project_id=project.id).order_by("-period_start", "activity").values(*fields)[:50])
        return JsonResponse({"items": rows, "count": EmissionRecord.all_tenants.filter(project_id=project.id).count()})

    module = type("urls", (), {"urlpatterns": [path("bare/", bare_view), path("", include("bastion.urls"))]})
    # The rate limits are counted as always (their cost is one of the layers) but set high enough
    # that a benchmark's thousand requests a minute are never refused.
    unlimited = {"API_READ_IDENTITY": "1000000/m", "API_READ_ORGANISATION": "1000000/m"}
    with override_settings(ROOT_URLCONF=module, BASTION_RATE_LIMITS=unlimited):
        client = Client()
        client.force_login(user)
        full_url = f"/api/v1/orgs/acme/projects/{project.id}/emissions?page_size=50"
        assert len(client.get(full_url).json()["items"]) == 50
        assert len(client.get("/bare/").json()["items"]) == 50

        def timed(url: str) -> list[float]:
            samples = []
            for _ in range(args.requests):
                start = time.perf_counter()
                response = client.get(url)
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200, response.status_code
            return samples

        timed(full_url)[:10], timed("/bare/")[:10]  # warm-up
        full, bare = [], []
        for _ in range(3):  # interleave to share any drift between the two
            full += timed(full_url)
            bare += timed("/bare/")

    f, b = statistics.median(full) * 1000, statistics.median(bare) * 1000
    print(f"database: {connection.vendor}; {len(full)} requests each, 50 rows per page")
    print(f"all layers (API):  median {f:.2f} ms  p95 {sorted(full)[int(len(full) * .95)] * 1000:.2f} ms")
    print(f"bare Django view:  median {b:.2f} ms  p95 {sorted(bare)[int(len(bare) * .95)] * 1000:.2f} ms")
    print(f"ratio (layers / bare): {f / b:.2f}x")


if __name__ == "__main__":
    main()
