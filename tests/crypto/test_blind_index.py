"""Searching an encrypted column through its keyed blind index: exact match, per organisation,
never by decrypting every row, and gone with the organisation's keys."""

from __future__ import annotations

import json

from django.db import connection

from bastion.crypto import keyring
from bastion.crypto.blind_index import matching
from bastion.crypto.models import IndexKey
from bastion.records.models import Supplier
from bastion.tenancy import actions, context


def _suppliers(client, ns, **params):
    response = client.get(f"/api/v1/orgs/{ns.slug}/projects/{ns.project.id}/suppliers", params)
    assert response.status_code == 200, response.content
    return [item["name"] for item in response.json()["items"]]


def _stored_index(supplier) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT contact_email_index FROM records_supplier WHERE id = %s",
                       [supplier.id.hex if connection.vendor == "sqlite" else supplier.id])
        return cursor.fetchone()[0]


def test_a_supplier_is_found_by_contact_email_whatever_its_case(world, client_for):
    client = client_for(world.acme.users["viewer"])
    assert _suppliers(client, world.acme, contact_email="PAT@acme-supplier.example ") == ["Acme Corp Logistics"]
    assert _suppliers(client, world.acme, contact_email="someone@acme-supplier.example") == []


def test_the_outsiders_identical_email_is_neither_found_nor_linkable(world, client_for):
    shared = "buyer@shared-supplier.example"
    for ns in (world.acme, world.globex):
        with context.tenant_context(ns.organisation.id):
            Supplier.objects.create(organisation=ns.organisation, project=ns.project, name=f"Shared of {ns.slug}",
                                    contact_email=shared)
    client = client_for(world.acme.users["owner"])
    assert _suppliers(client, world.acme, contact_email=shared) == ["Shared of acme"]
    assert client.get(f"/api/v1/orgs/globex/projects/{world.globex.project.id}/suppliers",
                      {"contact_email": shared}).status_code == 404
    with context.tenant_context(world.acme.organisation.id):
        acme_index = _stored_index(Supplier.objects.get(name="Shared of acme"))
    with context.tenant_context(world.globex.organisation.id):
        globex_index = _stored_index(Supplier.objects.get(name="Shared of globex"))
    # Per-organisation index keys: equal emails in two tenants do not produce equal digests.
    assert acme_index and globex_index and acme_index != globex_index
    assert shared not in acme_index


def test_the_index_follows_edits_and_skips_empty_values(world, client_for):
    client = client_for(world.acme.users["editor"])
    url = f"/api/v1/orgs/acme/projects/{world.acme.project.id}/suppliers/{world.acme.supplier.id}"
    patched = client.patch(url, json.dumps({"contact_email": "new@acme-supplier.example"}), content_type="application/json")
    assert patched.status_code == 200, patched.content
    assert _suppliers(client, world.acme, contact_email="pat@acme-supplier.example") == []
    assert _suppliers(client, world.acme, contact_email="new@acme-supplier.example") == ["Acme Corp Logistics"]
    assert client.patch(url, json.dumps({"contact_email": ""}), content_type="application/json").status_code == 200
    with context.tenant_context(world.acme.organisation.id):
        assert _stored_index(Supplier.objects.get(id=world.acme.supplier.id)) is None
    assert _suppliers(client, world.acme, contact_email="") == []


def test_the_search_never_decrypts_rows(world, monkeypatch):
    from bastion.crypto import envelope

    def refuse(*args, **kwargs):
        raise AssertionError("a blind-index search decrypted a value")

    monkeypatch.setattr(envelope, "decrypt", refuse)
    with context.tenant_context(world.acme.organisation.id):
        found = Supplier.objects.filter(matching(Supplier, "contact_email", "pat@acme-supplier.example",
                                                 organisation_id=world.acme.organisation.id))
        assert list(found.values_list("name", flat=True)) == ["Acme Corp Logistics"]


def test_the_index_key_is_wrapped_and_shredded_with_the_organisation(world):
    acme_id = world.acme.organisation.id
    with context.tenant_context(acme_id):
        row = IndexKey.objects.get(organisation_id=acme_id)
        material = keyring.index_key(acme_id)
        assert material not in bytes(row.wrapped)
        actions.delete_organisation(world.acme.organisation)
    with context.tenant_context(acme_id):
        assert not IndexKey.objects.filter(organisation_id=acme_id).exists()
