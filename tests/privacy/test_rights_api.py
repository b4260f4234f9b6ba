"""A person's rights through the API, the staff queue, and an organisation's export and deletion;
the outsider (globex's admin) can trigger none of it for acme's members."""

from __future__ import annotations

import datetime
import io
import json
import re
import zipfile

from django.core import mail
from django.test import Client

from bastion.privacy import account_deletion, organisation_deletion
from bastion.privacy.models import DeletionRequest, SubjectRequest
from bastion.tenancy import context
from bastion.tenancy.models import Organisation


def _json(client, method, url, body=None):
    if method == "get":
        return client.get(url)
    return getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")


def test_export_my_data_downloads_once(world, person, person_client, jobs_run_at_once,
                                      django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert person_client.post("/api/v1/me/export").status_code == 202
    status = person_client.get("/api/v1/me/privacy").json()
    assert status["export_state"] == "ready" and status["export_progress"] == 100
    assert any("export is ready" in m.subject for m in mail.outbox if person.email in m.to)
    response = person_client.get("/api/v1/me/export/download")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("bastion-personal-data.json"))
    assert data["profile"][0]["email"] == person.email
    assert {m["organisation"] for m in data["memberships"]} == {"acme"}
    assert data["sessions"] and data["authenticators"] and "consents" in data
    assert {"profile.csv", "memberships.csv", "sessions.csv", "audit_events.csv", "api_keys.csv"} <= set(archive.namelist())
    again = person_client.get("/api/v1/me/export/download")
    assert again.status_code == 410 and again.json()["error"]["code"] == "export_not_available"


def test_correct_my_name(person, person_client):
    response = _json(person_client, "patch", "/api/v1/me/profile", {"first_name": "Zeb"})
    assert response.status_code == 200 and response.json()["first_name"] == "Zeb"
    person.refresh_from_db()
    assert person.first_name == "Zeb" and person.last_name == "Quixworth"
    bad = _json(person_client, "patch", "/api/v1/me/profile", {"first_name": "x" * 200})
    assert bad.status_code == 422 and "first_name" in bad.json()["error"]["fields"]


def test_delete_my_account_cancel_and_ask_again(world, person, person_client, client,
                                                django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = person_client.post("/api/v1/me/deletion")
    assert response.status_code == 202
    link = re.search(r"http://testserver(/accounts/privacy/cancel-deletion/\S+/)", mail.outbox[-1].body).group(1)
    assert client.get(link).status_code == 200  # a confirmation page: a GET changes nothing
    assert account_deletion.pending(person) is not None
    assert client.post(link).status_code == 200
    assert account_deletion.pending(person) is None
    assert client.post(link.replace("/cancel-deletion/", "/cancel-deletion/x")).status_code == 400
    assert person_client.post("/api/v1/me/deletion").status_code == 202
    assert person_client.delete("/api/v1/me/deletion").status_code == 204
    assert DeletionRequest.objects.filter(user=person, cancelled_at__isnull=False).count() == 2


def test_deletion_needs_a_recent_second_factor_and_no_sole_ownership(world, person):
    stale = Client()
    stale.force_login(person)
    refused = stale.post("/api/v1/me/deletion")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "step_up_required"
    from tests.sign_in import signed_in_with_second_factor

    owner = signed_in_with_second_factor(Client(), world.acme.users["owner"])
    conflict = owner.post("/api/v1/me/deletion")
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "sole_owner"
    assert "acme" in conflict.json()["error"]["message"]


def test_api_keys_cannot_exercise_a_persons_rights(world, client):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.acme.api_token}"}
    for method, url in (("post", "/api/v1/me/export"), ("post", "/api/v1/me/deletion"), ("get", "/api/v1/me/privacy"),
                        ("get", "/api/v1/privacy/requests")):
        assert getattr(client, method)(url, **headers).status_code == 403


def test_the_outsider_can_trigger_none_of_it(world, person, client_for):
    outsider = client_for(world.globex.users["owner"])
    for method, url, body in (
        ("post", "/api/v1/orgs/acme/export", None),
        ("get", "/api/v1/orgs/acme/retention", None),
        ("put", "/api/v1/orgs/acme/retention", {"data_class": "emissions", "days": 1900}),
        ("get", "/api/v1/orgs/acme/legal-holds", None),
        ("post", "/api/v1/orgs/acme/legal-holds", {"reason": "x"}),
        ("delete", "/api/v1/orgs/acme", None),
    ):
        response = _json(outsider, method, url, body)
        assert response.status_code == 404, (method, url, response.status_code)
    # Their own organisation's routes cannot reach acme's people or objects either.
    with context.tenant_context(world.acme.organisation.id):
        from bastion.privacy import holds

        acme_hold = holds.place(world.acme.organisation, reason="acme's own")
    assert _json(outsider, "post", "/api/v1/orgs/globex/legal-holds/release", {"id": str(acme_hold.id)}).status_code == 404
    assert _json(outsider, "post", "/api/v1/orgs/globex/legal-holds",
                 {"reason": "x", "project": str(world.acme.project.id)}).status_code == 404
    # A person's own routes act on the caller only: the outsider's deletion request is theirs.
    assert outsider.delete("/api/v1/me/deletion").status_code == 404
    assert account_deletion.pending(person) is None
    # Staff-only queue.
    assert outsider.get("/api/v1/privacy/requests").status_code == 403
    # Acme's admin (not an owner) can neither export nor hold.
    admin = client_for(world.acme.users["admin"])
    assert admin.post("/api/v1/orgs/acme/export").status_code == 403
    assert _json(admin, "post", "/api/v1/orgs/acme/legal-holds", {"reason": "x"}).status_code == 403


def test_retention_policy_within_bounds(world, client_for):
    owner = client_for(world.acme.users["owner"])
    policy = owner.get("/api/v1/orgs/acme/retention").json()
    assert policy["emissions"]["days"] == 2557 and policy["sign_in_history"]["days"] == 365
    ok = _json(owner, "put", "/api/v1/orgs/acme/retention", {"data_class": "emissions", "days": 3650})
    assert ok.status_code == 200 and ok.json()["emissions"] == {**ok.json()["emissions"], "days": 3650,
                                                                "source": "organisation"}
    too_short = _json(owner, "put", "/api/v1/orgs/acme/retention", {"data_class": "emissions", "days": 30})
    assert too_short.status_code == 422 and too_short.json()["error"]["fields"]["days"][0]["code"] == "out_of_bounds"
    platform = _json(owner, "put", "/api/v1/orgs/acme/retention", {"data_class": "sessions", "days": 5})
    assert platform.status_code == 422
    globex = client_for(world.globex.users["owner"]).get("/api/v1/orgs/globex/retention").json()
    assert globex["emissions"]["days"] == 2557


def test_organisation_export_and_deletion_with_a_grace_period(world, client_for, client,
                                                              django_capture_on_commit_callbacks):
    owner = client_for(world.acme.users["owner"])
    made = owner.post("/api/v1/orgs/acme/export")
    assert made.status_code == 201
    download = owner.get(made.json()["download"])
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = set(archive.namelist())
    assert {"emissions.json", "energy.json", "suppliers.json", "members.json", "roles.json", "audit-log.jsonl"} <= names
    assert any(n.startswith("evidence/") and n.endswith("invoice.pdf") for n in names)
    assert "globex" not in archive.read("members.json").decode()
    assert owner.get(made.json()["download"]).status_code == 404  # once

    with django_capture_on_commit_callbacks(execute=True):
        scheduled = owner.delete("/api/v1/orgs/acme")
    assert scheduled.status_code == 202
    link = re.search(r"http://testserver(/accounts/privacy/cancel-organisation-deletion/\S+/)", mail.outbox[-1].body)
    assert client.post(link.group(1)).status_code == 200
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=31)
    assert organisation_deletion.delete_due(now=later).deleted == []
    assert owner.delete("/api/v1/orgs/acme").status_code == 202
    assert organisation_deletion.delete_due(now=later).deleted == ["acme"]
    with context.platform_scope():
        assert list(Organisation.objects.values_list("slug", flat=True)) == ["globex"]


def test_each_download_route_hands_out_only_its_own_kind_of_export(world, client_for):
    """The right to download the audit log (an admin's, or a custom auditor role's) never opens the
    organisation's full export, and the owner's organisation-export route never serves an audit export."""
    owner, admin = client_for(world.acme.users["owner"]), client_for(world.acme.users["admin"])
    organisation_export = owner.post("/api/v1/orgs/acme/export").json()
    audit_export = admin.post("/api/v1/orgs/acme/audit/exports").json()
    assert admin.get(f"/api/v1/orgs/acme/audit/exports/{organisation_export['id']}").status_code == 404
    assert owner.get(f"/api/v1/orgs/acme/export/{audit_export['id']}").status_code == 404
    # Neither was consumed by the wrong route: each still downloads, once, where it belongs.
    assert owner.get(organisation_export["download"]).status_code == 200
    assert admin.get(audit_export["download"]).status_code == 200


def test_staff_record_email_requests_with_the_statutory_deadline(world, django_user_model, person):
    staff = django_user_model.objects.create_user(email="dpo@bastion.example", password="x" * 20, staff_role="support")
    from tests.sign_in import signed_in_with_second_factor

    client = signed_in_with_second_factor(Client(), staff)
    made = _json(client, "post", "/api/v1/privacy/requests",
                 {"kind": "erasure", "requester_email": person.email, "received_at": "2027-01-31T09:00:00Z"})
    assert made.status_code == 201
    assert made.json()["deadline"].startswith("2027-02-28") and made.json()["verification"] == "pending"
    row = SubjectRequest.objects.get()
    assert row.user == person
    unverified = _json(client, "post", "/api/v1/privacy/requests/update", {"id": str(row.id), "state": "completed"})
    assert unverified.status_code == 422
    done = _json(client, "post", "/api/v1/privacy/requests/update",
                 {"id": str(row.id), "verification": "verified", "state": "completed"})
    assert done.status_code == 200 and done.json()["state"] == "completed"
    bad = _json(client, "post", "/api/v1/privacy/requests", {"kind": "gossip", "requester_email": "a@b.example",
                                                             "received_at": "2027-01-31T09:00:00Z"})
    assert bad.status_code == 422


def test_an_export_not_downloaded_is_deleted_when_it_expires(person, person_client, jobs_run_at_once):
    from bastion.audit.models import AuditEvent
    from bastion.operations.tasks import purge_expired_artifacts
    from bastion.privacy import personal_export
    from bastion.privacy.audit_actions import PERSONAL_EXPORT_EXPIRED

    assert person_client.post("/api/v1/me/export").status_code == 202
    assert personal_export.purge_expired() == 0  # not yet
    assert personal_export.purge_expired(datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=15)) == 1
    assert person_client.get("/api/v1/me/privacy").json()["export_state"] == "expired"
    assert person_client.get("/api/v1/me/export/download").status_code == 410
    with context.platform_scope():
        assert AuditEvent.objects.filter(action=PERSONAL_EXPORT_EXPIRED).count() == 1
    assert purge_expired_artifacts.call_local() >= 0  # the hourly job runs both purges
