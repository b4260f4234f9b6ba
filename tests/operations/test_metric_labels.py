"""After a realistic workload (sign-ins, failed sign-ins and a lockout from a named organisation, API
calls, a rate-limited client, audit appends) the counters moved, and no label anywhere names an
organisation, a person, an email address, a client's IP address, or an id."""

from __future__ import annotations

import json

import pytest

from tests.conftest import PASSWORD
from tests.operations.scrape import TOKEN, samples, scrape, value
from tests.sign_in import sign_in

CLIENT_IP = "203.0.113.77"


@pytest.fixture(autouse=True)
def metrics_token(settings):
    settings.BASTION_METRICS_TOKEN = TOKEN
    settings.BASTION_RATE_LIMITS = {"SIGNIN_IP": "8/m"}


def test_counters_move_and_labels_name_nobody(world, client, client_for, django_capture_on_commit_callbacks):
    from django.test import Client

    before = scrape(client)
    acme, globex = world.acme, world.globex
    # The test runs in one transaction: audit appends are counted by on-commit callbacks, run here.
    with django_capture_on_commit_callbacks(execute=True):
        browser = Client(REMOTE_ADDR=CLIENT_IP)
        assert sign_in(browser, acme.users["viewer"].email, PASSWORD).status_code == 302
        for _ in range(5):  # the editor's account locks
            assert sign_in(Client(REMOTE_ADDR=CLIENT_IP), acme.users["editor"].email, "wrong password").status_code == 200
        sign_in(Client(REMOTE_ADDR=CLIENT_IP), acme.users["editor"].email, PASSWORD)  # refused: locked
        for _ in range(3):  # this address reaches its rate limit (8 a minute here)
            sign_in(Client(REMOTE_ADDR=CLIENT_IP), "nobody@acme.example", "wrong password")
        admin = client_for(acme.users["admin"])
        assert admin.get("/api/v1/orgs/acme/members").status_code == 200
        assert admin.get("/api/v1/orgs/globex/members").status_code in (403, 404)  # the outsider's: nothing
        outsider = client_for(globex.users["owner"])
        assert outsider.get(f"/api/v1/orgs/acme/projects/{acme.project.id}/emissions").status_code in (403, 404)
        created = admin.post(f"/api/v1/orgs/acme/projects/{acme.project.id}/suppliers", content_type="application/json",
                             data=json.dumps({"name": "Initech Freight", "country": "GB",
                                              "contact_email": "someone@initech.example"}))
        assert created.status_code in (200, 201), created.content
    after = scrape(client)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("bastion_signins_total", result="succeeded") >= 1
    assert moved("bastion_signins_total", result="failed") >= 5
    assert moved("bastion_signins_total", result="refused") >= 1
    assert moved("bastion_signin_lockouts_total", kind="account") == 1
    assert moved("bastion_rate_limited_total", rule="signin", key="ip") >= 1
    assert moved("bastion_audit_events_appended_total", action="auth.login.failed") >= 5
    assert moved("bastion_http_requests_total", route="/api/v1/orgs/<org>/members", method="GET", status="200") == 1

    forbidden = {CLIENT_IP, "127.0.0.1", "someone@initech.example", "Initech"}
    for organisation in (acme, globex):
        forbidden |= {organisation.slug, organisation.organisation.name, str(organisation.organisation.id),
                      str(organisation.project.id)}
        forbidden |= {user.email for user in organisation.users.values()}
        forbidden |= {user.email.split("@")[0] + "@" for user in organisation.users.values()}
    label_values = {v for sample in samples(after) for v in sample.labels.values()}
    leaks = {(bad, label) for label in label_values for bad in forbidden if bad.lower() in label.lower()}
    assert not leaks, leaks
    assert all("@" not in label for label in label_values)
