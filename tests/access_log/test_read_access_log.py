"""The read-access log: who viewed or downloaded what, one hash-chained batch per request."""

import json

import pytest
from django.db import DatabaseError, connection, transaction

from bastion.access_log import configuration, recording
from bastion.access_log.models import AccessBatch
from bastion.audit import format
from bastion.audit.models import AuditEvent
from bastion.tenancy import context

pytestmark = pytest.mark.django_db


def _base(org) -> str:
    return f"/api/v1/orgs/{org.slug}/projects/{org.project.id}"


def _log(client, org, **query) -> list[dict]:
    response = client.get(f"/api/v1/orgs/{org.slug}/access-log", query)
    assert response.status_code == 200, response.content
    return response.json()["items"]


def test_downloads_exports_and_credentials_are_logged_by_default_record_views_are_not(world, client_for):
    acme, viewer = world.acme, world.acme.users["viewer"]
    client = client_for(viewer)
    assert client.get(f"{_base(acme)}/emissions").status_code == 200
    assert client.get(f"{_base(acme)}/evidence/{acme.evidence.id}/download").status_code == 200
    assert client.get(f"{_base(acme)}/export", {"kind": "emissions"}).status_code == 200
    owner = client_for(acme.users["owner"])
    assert owner.get(f"/api/v1/orgs/acme/credentials/{acme.credential.id}").status_code == 200

    items = _log(owner, acme)
    assert [(i["kind"], i["actor"]["label"]) for i in items] == [
        ("credential_preview", "owner@acme.example"), ("export", "viewer@acme.example"),
        ("evidence_download", "viewer@acme.example")]
    assert items[2]["resources"] == [["evidence_file", str(acme.evidence.id)]]
    assert items[0]["resources"] == [["credential", str(acme.credential.id)]]
    assert "AccessTokenSecret" not in json.dumps(items)


def test_record_views_when_turned_on_are_one_batch_per_request(world, client_for):
    acme = world.acme
    owner = client_for(acme.users["owner"])
    response = owner.patch("/api/v1/orgs/acme/access-log/settings", {"record_views": True},
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["record_views"] is True
    with context.tenant_context(acme.organisation.id):
        assert AuditEvent.objects.filter(chain_id=acme.organisation.id, action="access_log.settings.updated").count() == 1

    viewer = client_for(acme.users["viewer"])
    assert viewer.get(f"{_base(acme)}/emissions").status_code == 200
    assert viewer.get(f"{_base(acme)}/emissions/{acme.emission.id}").status_code == 200

    listed = _log(owner, acme, kind="record_view", actor="viewer@acme.example")
    shown_by_list = [b for b in listed if len(b["resources"]) == 3]
    assert len(shown_by_list) == 1
    assert sorted(r[1] for r in shown_by_list[0]["resources"]) == sorted(str(e.id) for e in acme.emissions)
    by_resource = _log(owner, acme, resource_type="emission_record", resource_id=str(acme.emission.id))
    assert len(by_resource) >= 2 and all(["emission_record", str(acme.emission.id)] in b["resources"] for b in by_resource)
    assert _log(owner, acme, actor="nobody@acme.example") == []


def test_the_log_is_a_hash_chain_and_append_only(world, client_for):
    acme = world.acme
    client = client_for(acme.users["viewer"])
    for _ in range(3):
        client.get(f"{_base(acme)}/evidence/{acme.evidence.id}/download")
    with context.tenant_context(acme.organisation.id):
        assert recording.verify(acme.organisation.id) is None
        batches = list(AccessBatch.objects.order_by("seq"))
        assert [b.seq for b in batches] == [1, 2, 3]
        assert batches[1].prev_hash == batches[0].hash
    with pytest.raises(DatabaseError), transaction.atomic(), context.tenant_context(acme.organisation.id):
        AccessBatch.objects.filter(seq=2).update(actor_label="someone else")
    with pytest.raises(DatabaseError), transaction.atomic(), context.tenant_context(acme.organisation.id):
        AccessBatch.objects.filter(seq=2).delete()


def test_each_batchs_hash_is_the_audit_formats_entry_hash_of_its_body_whatever_it_lists(world):
    """On PostgreSQL the database hashes the bytes around ``seq``: the result must be exactly
    ``entry_hash(prev, body)`` as the verifier and ``bastion-verify`` compute it, non-ASCII included."""
    acme = world.acme
    odd = ["café ✓ 𝄞", 'quote " and \\ backslash', "\x01control", "9" * 40, ""]
    with context.tenant_context(acme.organisation.id):
        for _ in range(12):  # seq crosses from one digit to two
            recording.record(acme.organisation.id, "export", [("note", value) for value in odd])
        batches = list(AccessBatch.objects.order_by("seq"))
        assert [b.seq for b in batches] == list(range(1, 13))
        previous = format.GENESIS_HASH.hex()
        for batch in batches:
            assert batch.prev_hash == previous
            assert batch.hash == format.entry_hash(bytes.fromhex(previous), recording.body_of(batch)).hex()
            previous = batch.hash
        assert recording.verify(acme.organisation.id) is None


def test_a_forged_batch_breaks_the_chain(world):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        recording.record(acme.organisation.id, "export", [("project", acme.project.id)])
        good = AccessBatch.objects.get(seq=1)
        AccessBatch.objects.create(organisation=acme.organisation, seq=2, occurred_at=good.occurred_at, kind="export",
                                   actor_type="user", actor_label="forger", resources=[], prev_hash=good.hash,
                                   hash="0" * 64)
        assert recording.verify(acme.organisation.id) == 2


def test_settings_are_for_admins_and_turned_off_kinds_are_not_logged(world, client_for):
    acme = world.acme
    assert client_for(acme.users["viewer"]).get("/api/v1/orgs/acme/access-log/settings").status_code == 403
    assert client_for(acme.users["viewer"]).get("/api/v1/orgs/acme/access-log").status_code == 403
    with context.tenant_context(acme.organisation.id):
        configuration.update(acme.organisation.id, evidence_downloads=False)
    client_for(acme.users["viewer"]).get(f"{_base(acme)}/evidence/{acme.evidence.id}/download")
    assert _log(client_for(acme.users["owner"]), acme) == []


def test_outsider_sees_nothing_of_acmes_access_log(world, client_for):
    acme, globex = world.acme, world.globex
    client_for(acme.users["viewer"]).get(f"{_base(acme)}/evidence/{acme.evidence.id}/download")
    outsider = client_for(globex.users["owner"])
    assert outsider.get("/api/v1/orgs/acme/access-log").status_code == 404
    assert outsider.get("/api/v1/orgs/acme/access-log/settings").status_code == 404
    assert _log(outsider, globex) == []
    with context.tenant_context(globex.organisation.id):
        assert AccessBatch.objects.count() == 0
        if connection.vendor == "postgresql":
            assert AccessBatch.all_tenants.count() == 0  # row-level security, not only the manager


def test_console_lists_and_filters_the_log_and_admins_change_settings(world, client_for):
    acme = world.acme
    owner = client_for(acme.users["owner"])
    response = owner.post("/o/acme/access-log/settings/", {"record_views": "on", "evidence_downloads": "on",
                                                           "exports": "on", "credential_previews": "on"})
    assert response.status_code == 302
    viewer = client_for(acme.users["viewer"])
    assert viewer.get(f"/o/acme/p/{acme.project.id}/").status_code == 200
    assert viewer.get(f"/o/acme/p/{acme.project.id}/emissions/{acme.emission.id}/").status_code == 200
    page = owner.get("/o/acme/access-log/", {"actor": "viewer@acme.example", "resource_type": "emission_record",
                                             "resource_id": str(acme.emissions[1].id)})
    assert page.status_code == 200
    html = page.content.decode()
    assert str(acme.emissions[1].id) in html and html.count("<tr>") == 2  # the header and the list page's batch
    assert viewer.post("/o/acme/access-log/settings/", {}).status_code == 403
    assert client_for(world.globex.users["owner"]).get("/o/acme/access-log/").status_code == 404


def test_people_appear_by_pseudonym_and_an_erased_person_is_named_by_no_batch(world, client_for):
    """The log holds a person's pseudonym, not their address: shown while they are known, "erased
    person" after their erasure, and every batch still verifies."""
    from bastion.privacy.erasure import erase_person

    acme, viewer = world.acme, world.acme.users["viewer"]
    assert client_for(viewer).get(f"{_base(acme)}/evidence/{acme.evidence.id}/download").status_code == 200
    admin = client_for(acme.users["admin"])
    [entry] = _log(admin, acme, actor=viewer.email)
    assert entry["actor"]["label"] == viewer.email and entry["actor"]["id"].startswith("psn_")
    email = viewer.email
    erase_person(viewer.pk)
    with context.tenant_context(acme.organisation.id):
        stored = repr(list(AccessBatch.objects.values_list()))
        assert recording.verify(acme.organisation.id) is None
    assert email not in stored
    assert [e["actor"]["label"] for e in _log(admin, acme)] == ["erased person"]
