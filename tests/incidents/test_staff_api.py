"""``/api/v1/staff/incidents``: security staff declare, read and move incidents; a skipped phase is a
409 with the error shape; anyone else — support staff, an organisation's owner, the outsider — 404."""

import pytest

from bastion.incidents.models import Incident


@pytest.fixture
def security(world, client_for, django_user_model):
    return client_for(django_user_model.objects.create_user(email="sec@staff.example", staff_role="security",
                                                            email_verified=True))


def test_security_staff_run_an_incident_through_the_api(world, security):
    created = security.post("/api/v1/staff/incidents", {"title": "Sign-in outage", "severity": "critical"},
                            content_type="application/json")
    assert created.status_code == 201
    body = created.json()
    assert body["reference"].startswith("INC-") and [t["name"] for t in body["timers"]] == ["response", "resolution"]
    assert body["timeline"][0]["kind"] == "declared"
    url = f"/api/v1/staff/incidents/{body['id']}"
    assert security.post(f"{url}/command").json()["commander"] == "sec@staff.example"
    skipped = security.post(f"{url}/phase", {"phase": "recovery"}, content_type="application/json")
    assert skipped.status_code == 409 and skipped.json()["error"]["code"] == "not_allowed_now"
    moved = security.post(f"{url}/phase", {"phase": "containment", "note": "Failover"},
                          content_type="application/json")
    assert moved.status_code == 200 and moved.json()["phase"] == "containment"
    assert security.post(f"{url}/notes", {"body": "DNS fixed"}, content_type="application/json").status_code == 201
    assert body["reference"] in [i["reference"] for i in security.get("/api/v1/staff/incidents").json()]
    assert security.get(url).json()["timeline"][-1]["text"] == "DNS fixed"
    unknown = security.post("/api/v1/staff/incidents", {"title": "x", "severity": "urgent"},
                            content_type="application/json")
    assert unknown.status_code == 422 and "severity" in repr(unknown.json()["error"]["fields"])
    bad = security.post("/api/v1/staff/incidents", {"title": "", "severity": "low"}, content_type="application/json")
    assert bad.status_code == 422 and "title" in bad.json()["error"]["fields"]
    from_component = security.post("/api/v1/staff/incidents", {"component": "teleporter"},
                                   content_type="application/json")
    assert from_component.status_code == 422


def test_nobody_else_finds_the_staff_incident_api(world, client_for, django_user_model):
    before = Incident.objects.count()
    incident = Incident.objects.create(reference="INC-X", title="t", severity="low", declared_at="2026-01-01T00:00Z")
    support = client_for(django_user_model.objects.create_user(email="sup@staff.example", staff_role="support",
                                                               email_verified=True))
    for client in (support, client_for(world.acme.users["owner"]), client_for(world.globex.users["admin"])):
        assert client.get("/api/v1/staff/incidents").status_code == 404
        assert client.get(f"/api/v1/staff/incidents/{incident.id}").status_code == 404
        assert client.post("/api/v1/staff/incidents", {"title": "x", "severity": "low"},
                           content_type="application/json").status_code == 404
    assert Incident.objects.count() == before + 1
