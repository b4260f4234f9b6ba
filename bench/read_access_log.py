"""The 50-row record list with record-view logging on vs off, in the same run (goal: ≤ 1.15×).

    uv run python bench/read_access_log.py [--requests N]          # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/read_access_log.py   # PostgreSQL, app role

Two organisations with the same 500 records; one logs record views (one hash-chained batch per
request listing the 50 rows), the other does not. Requests to both are interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import time

from _setup import add_emission_records, setup_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    setup_database()

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client, override_settings

    from bastion.access_log import configuration
    from bastion.access_log.models import AccessBatch
    from bastion.tenancy import actions, context

    user = get_user_model().objects.create_user(email="bench@acme.example", password="x" * 20)
    TOTP.activate(user, generate_totp_secret())
    urls = {}
    for slug, logged in (("logged", True), ("unlogged", False)):
        organisation = actions.create_organisation(name=slug.title(), slug=slug, owner=user)
        with context.tenant_context(organisation.id):
            workspace = actions.create_workspace(organisation, name="UK")
            project = actions.create_project(workspace, name="FY2025")
            add_emission_records(organisation, project)
            configuration.update(organisation.id, record_views=logged)
        urls[slug] = (organisation, f"/api/v1/orgs/{slug}/projects/{project.id}/emissions?page_size=50")

    unlimited = {"API_READ_IDENTITY": "1000000/m", "API_READ_ORGANISATION": "1000000/m"}
    with override_settings(BASTION_RATE_LIMITS=unlimited):
        client = Client()
        client.force_login(user)

        def timed(url: str) -> list[float]:
            samples = []
            for _ in range(args.requests):
                start = time.perf_counter()
                response = client.get(url)
                samples.append(time.perf_counter() - start)
                assert response.status_code == 200, response.status_code
            return samples

        timed(urls["logged"][1])[:10], timed(urls["unlogged"][1])[:10]  # warm-up
        on, off = [], []
        for _ in range(3):  # interleave to share any drift between the two
            on += timed(urls["logged"][1])
            off += timed(urls["unlogged"][1])

    for slug, (organisation, _url) in urls.items():
        with context.tenant_context(organisation.id):
            batches = AccessBatch.objects.count()
            assert (batches > 0) == (slug == "logged"), (slug, batches)
            if batches:
                assert len(AccessBatch.objects.order_by("-seq").first().resources) == 50

    a, b = statistics.median(on) * 1000, statistics.median(off) * 1000
    print(f"database: {connection.vendor}; {len(on)} requests each, 50 rows per page")
    print(f"record views logged:  median {a:.2f} ms  p95 {sorted(on)[int(len(on) * .95)] * 1000:.2f} ms")
    print(f"not logged:           median {b:.2f} ms  p95 {sorted(off)[int(len(off) * .95)] * 1000:.2f} ms")
    print(f"ratio (logged / not logged): {a / b:.2f}x (goal ≤ 1.15x)")


if __name__ == "__main__":
    main()
