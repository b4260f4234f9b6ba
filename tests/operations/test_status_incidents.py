"""Platform staff write incidents and maintenance from the console, with a second factor and
step-up; each change is audited on the platform chain. Members of organisations (the insider's
owner and the outsider alike) get nothing: the pages do not exist for them."""

from __future__ import annotations

import time

import pytest
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from django.test import Client

from bastion.audit import personal
from bastion.audit.models import AuditEvent
from bastion.db.platform import PLATFORM_ID
from bastion.operations.audit_actions import INCIDENT_CREATED, INCIDENT_UPDATED, MAINTENANCE_SCHEDULED
from bastion.operations.models import Incident, Maintenance
from bastion.tenancy import context

pytestmark = pytest.mark.django_db

NEW_INCIDENT = {"title": "Sign-in errors", "impact": "major", "status": "investigating",
                "components": ["sign_in"], "body": "Some sign-ins fail."}


def _platform_events(action):
    with context.platform_scope():
        return list(AuditEvent.objects.filter(chain_id=PLATFORM_ID, action=action))


def test_members_of_organisations_get_nothing(world, client_for):
    for user in (world.acme.users["owner"], world.globex.users["owner"], world.globex.users["viewer"]):
        client = client_for(user)
        assert client.get("/status/admin/").status_code == 404
        assert client.post("/status/admin/incidents/", NEW_INCIDENT).status_code == 404
    assert Client().get("/status/admin/").status_code == 302  # anonymous: to sign in
    assert Incident.objects.count() == 0


def test_staff_without_a_recent_second_factor_are_sent_to_confirm_it(staff, client_for):
    client = client_for(staff)
    assert client.get("/status/admin/").status_code == 200
    session = client.session
    for record in session[AUTHENTICATION_METHODS_SESSION_KEY]:
        record["at"] = time.time() - 3600  # the second factor was used an hour ago
    session.save()
    refused = client.post("/status/admin/incidents/", NEW_INCIDENT)
    assert refused.status_code == 302 and "/accounts/2fa/reauthenticate/" in refused.url
    assert Incident.objects.count() == 0
    password_only = Client()
    password_only.force_login(staff)
    assert password_only.get("/status/admin/").status_code == 302


def test_staff_open_and_update_an_incident_audited(staff, client_for, world, django_capture_on_commit_callbacks):
    client = client_for(staff)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post("/status/admin/incidents/", NEW_INCIDENT)
    assert response.status_code == 302, response.content.decode()[:500]
    incident = Incident.objects.get()
    assert (incident.title, incident.impact, incident.status, incident.components) == (
        "Sign-in errors", "major", "investigating", ["sign_in"])
    created = _platform_events(INCIDENT_CREATED)
    assert len(created) == 1 and created[0].resource_id == str(incident.id)
    with context.platform_scope():  # the platform chain's pseudonyms are read in platform scope
        assert personal.shown_one(created[0]).actor_user_id == staff.pk
    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(f"/status/admin/incidents/{incident.id}/",
                           {"status": "resolved", "body": "Fixed."}).status_code == 302
    incident.refresh_from_db()
    assert incident.status == "resolved" and incident.resolved_at is not None
    assert len(_platform_events(INCIDENT_UPDATED)) == 1
    assert Client().get("/status.json").json()["incidents"] == []  # resolved: no longer current
    # Nothing reached any organisation's chain.
    for org in (world.acme, world.globex):
        with context.tenant_context(org.organisation.id):
            assert not AuditEvent.objects.filter(chain_id=org.organisation.id, action__startswith="status.").exists()


def test_staff_schedule_maintenance(staff, client_for):
    client = client_for(staff)
    response = client.post("/status/admin/maintenance/", {
        "title": "Storage migration", "components": ["object_storage"], "starts_at": "2030-01-01 22:00",
        "ends_at": "2030-01-01 23:00", "body": ""})
    assert response.status_code == 302
    maintenance = Maintenance.objects.get()
    assert len(_platform_events(MAINTENANCE_SCHEDULED)) == 1
    assert client.post(f"/status/admin/maintenance/{maintenance.id}/cancel/").status_code == 302
    maintenance.refresh_from_db()
    assert maintenance.cancelled


@pytest.mark.parametrize("bad", [
    {"title": ""}, {"impact": "apocalyptic"}, {"status": "resolved"}, {"components": ["nuclear_reactor"]},
    {"body": ""},
])
def test_bad_input_is_refused_with_400(staff, client_for, bad):
    response = client_for(staff).post("/status/admin/incidents/", {**NEW_INCIDENT, **bad})
    assert response.status_code == 400
    assert Incident.objects.count() == 0


def test_bad_maintenance_window_is_refused(staff, client_for):
    response = client_for(staff).post("/status/admin/maintenance/", {
        "title": "Backwards", "components": ["database"], "starts_at": "2030-01-01 23:00",
        "ends_at": "2030-01-01 22:00"})
    assert response.status_code == 400 and Maintenance.objects.count() == 0


def test_an_incident_opened_from_the_console_emails_confirmed_subscribers(
        staff, client_for, smtp, jobs_now, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from bastion.operations.models import Subscriber

    now = time.time()
    Subscriber.objects.create(email="confirmed@customer.example", confirmed=True, created_at=timezone.now())
    Subscriber.objects.create(email="pending@customer.example", confirmed=False, created_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(staff).post("/status/admin/incidents/", NEW_INCIDENT).status_code == 302
    assert [m["To"] for m in smtp.messages] == ["confirmed@customer.example"]
    assert "Sign-in errors" in smtp.messages[0]["Subject"] and time.time() - now < 60


def test_the_minute_job_records_every_component(db):
    from bastion.operations.models import ComponentInterval
    from bastion.operations.probes import components
    from bastion.operations.tasks import status_probes

    assert status_probes.call_local() == 0
    assert set(ComponentInterval.objects.values_list("component", flat=True)) == {c.key for c in components()}
