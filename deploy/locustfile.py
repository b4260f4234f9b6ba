"""Load through the balancer: API reads and writes with an API key, the sign-in page and the health probe.

    BASTION_LOCUST_API_KEY=bst_… BASTION_LOCUST_ORG=acme BASTION_LOCUST_PROJECT=<uuid> \\
        uv run locust -f deploy/locustfile.py --headless -u 8 -r 4 -t 20s --host http://127.0.0.1:8080 --only-summary

``tests/deploy/test_two_servers.py`` runs it against two servers behind HAProxy and asserts no failure;
docs/scaling.md has the figures of a run.
"""

from __future__ import annotations

import os
import uuid

from locust import HttpUser, between, task

EMISSION = {"scope": 2, "category": "purchased_electricity", "quantity": "42.5", "unit": "kWh",
            "period_start": "2025-05-01", "period_end": "2025-05-31", "site": "Load test"}


class ApiClient(HttpUser):
    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {os.environ['BASTION_LOCUST_API_KEY']}"
        self.base = f"/api/v1/orgs/{os.environ['BASTION_LOCUST_ORG']}/projects/{os.environ['BASTION_LOCUST_PROJECT']}"

    @task(6)
    def list_emissions(self) -> None:
        self.client.get(self.base + "/emissions?page_size=20", name="GET emissions")

    @task(2)
    def create_emission(self) -> None:
        with self.client.post(self.base + "/emissions", json={**EMISSION, "activity": f"load {uuid.uuid4().hex[:12]}"},
                              name="POST emissions", catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"status {response.status_code}")

    @task(1)
    def sign_in_page(self) -> None:
        self.client.get("/accounts/login/", name="GET sign-in page", headers={"Authorization": None})

    @task(1)
    def health(self) -> None:
        self.client.get("/healthz", name="GET /healthz")
