"""Emissions, energy and supplier pages: who sees what, and create / edit / delete through the forms."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from bastion.records.models import EmissionRecord, EnergyRecord, Supplier
from bastion.tenancy import context

pytestmark = pytest.mark.django_db

NEW_EMISSION = {
    "scope": "1", "category": "mobile_combustion", "activity": "Fleet diesel", "quantity": "310.25", "unit": "L",
    "period_start": "2025-04-01", "period_end": "2025-04-30", "site": "Leeds", "supplier": "", "notes": "",
}


def url(name, world_org, **kwargs):
    return reverse(f"console:{name}", kwargs={"org": world_org.slug, "project_id": world_org.project.id, **kwargs})


def test_viewer_sees_records_but_may_not_create(client_for, world):
    acme = world.acme
    client = client_for(acme.users["viewer"])
    page = client.get(url("project", acme))
    assert page.status_code == 200
    assert b"Boiler gas" in page.content and b"Road freight" in page.content
    assert b">5,400<" in page.content and b">1,200.5<" in page.content  # quantities without exponent or zeros
    assert url("emission_create", acme).encode() not in page.content  # no write buttons without the permission
    assert client.get(url("emission_create", acme)).status_code == 403
    response = client.post(url("emission_create", acme), NEW_EMISSION)
    assert response.status_code == 403
    assert b"You do not have permission" in response.content
    with context.tenant_context(acme.organisation.id):
        assert not EmissionRecord.objects.filter(activity="Fleet diesel").exists()


def test_editor_creates_edits_and_deletes_an_emission(client_for, world):
    acme = world.acme
    client = client_for(acme.users["editor"])
    created = client.post(url("emission_create", acme), NEW_EMISSION)
    assert created.status_code == 302
    with context.tenant_context(acme.organisation.id):
        record = EmissionRecord.objects.get(activity="Fleet diesel")
    assert record.quantity == Decimal("310.25") and record.created_by == acme.users["editor"]
    assert created.url == url("emission", acme, emission_id=record.id)
    assert b"Fleet diesel" in client.get(url("project", acme)).content

    edited = client.post(url("emission_edit", acme, emission_id=record.id), {**NEW_EMISSION, "quantity": "400"})
    assert edited.status_code == 302
    with context.tenant_context(acme.organisation.id):
        record.refresh_from_db()
    assert record.quantity == Decimal("400")

    assert client.get(url("emission_delete", acme, emission_id=record.id)).status_code == 405
    deleted = client.post(url("emission_delete", acme, emission_id=record.id))
    assert deleted.status_code == 302
    with context.tenant_context(acme.organisation.id):
        assert not EmissionRecord.objects.filter(id=record.id).exists()
    assert b"Fleet diesel" not in client.get(url("project", acme)).content


def test_the_edit_form_shows_a_number_as_the_list_does(client_for, world):
    """The list shows 1,200.5 (not 1200.500000): the edit form holds 1200.5, and saving it unchanged
    keeps the value."""
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        record = EmissionRecord.objects.get(activity="Boiler gas")
    client = client_for(acme.users["editor"])
    form = client.get(url("emission_edit", acme, emission_id=record.id))
    assert b'value="1200.5"' in form.content and b"1200.500000" not in form.content
    assert b">1,200.5<" in client.get(url("project", acme)).content


def test_action_errors_show_on_their_fields(client_for, world):
    acme = world.acme
    data = {**NEW_EMISSION, "category": "purchased_electricity", "period_end": "2025-03-01"}
    response = client_for(acme.users["editor"]).post(url("emission_create", acme), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.has_error("category", "category_scope_mismatch")
    assert form.has_error("period_end", "period_reversed")


def test_list_filters_by_scope_and_period_and_paginates(client_for, world):
    acme = world.acme
    client = client_for(acme.users["viewer"])
    by_scope = client.get(url("project", acme), {"scope": "2"})
    assert b"Office electricity" in by_scope.content and b"Boiler gas" not in by_scope.content
    by_period = client.get(url("project", acme), {"period_from": "2025-03-01", "period_to": "2025-03-31"})
    assert b"Road freight" in by_period.content and b"Office electricity" not in by_period.content
    with context.tenant_context(acme.organisation.id):
        EmissionRecord.objects.bulk_create(
            EmissionRecord(organisation=acme.organisation, project=acme.project, scope=1, category="fugitive_emissions",
                           activity=f"Leak {n}", quantity=1, unit="kg", period_start="2024-01-01", period_end="2024-01-02")
            for n in range(60)
        )
    first = client.get(url("project", acme))
    assert first.context["page"].paginator.num_pages == 2 and len(first.context["page"].object_list) == 50
    assert b"?page=2" in first.content
    assert len(client.get(url("project", acme), {"page": 2}).context["page"].object_list) == 13


def test_energy_and_suppliers_round_trip(client_for, world):
    acme = world.acme
    client = client_for(acme.users["editor"])
    assert b"MTR-1" in client.get(url("energy", acme)).content
    response = client.post(url("energy_create", acme), {
        "meter": "MTR-2", "site": "Leeds", "kwh": "120.5", "source": "solar",
        "period_start": "2025-05-01", "period_end": "2025-05-31", "notes": "",
    })
    assert response.status_code == 302
    with context.tenant_context(acme.organisation.id):
        energy = EnergyRecord.objects.get(meter="MTR-2")
    assert client.get(url("energy_edit", acme, energy_id=energy.id)).status_code == 200
    assert client.post(url("energy_delete", acme, energy_id=energy.id)).status_code == 302

    response = client.post(url("supplier_create", acme), {"name": "Northwind", "country": "gb"})
    assert response.status_code == 200 and response.context["form"].has_error("country", "invalid_country")
    assert client.post(url("supplier_create", acme), {"name": "Northwind", "country": "GB"}).status_code == 302
    assert b"Northwind" in client.get(url("suppliers", acme)).content
    with context.tenant_context(acme.organisation.id):
        supplier = Supplier.objects.get(name="Northwind")
    assert client.post(url("supplier_delete", acme, supplier_id=supplier.id)).status_code == 302


def test_outsider_gets_404_on_acme_pages(client_for, world):
    acme, outsider = world.acme, client_for(world.globex.users["owner"])
    pages = [
        url("project", acme), url("emission", acme, emission_id=acme.emission.id),
        url("emission_edit", acme, emission_id=acme.emission.id), url("energy", acme), url("suppliers", acme),
        url("import_records", acme), url("evidence", acme),
        url("evidence_download", acme, evidence_id=acme.evidence.id),
        reverse("console:dashboard", kwargs={"org": "acme"}), reverse("console:members", kwargs={"org": "acme"}),
    ]
    for page in pages:
        response = outsider.get(page)
        assert response.status_code == 404, page
        assert b"Acme" not in response.content
    assert outsider.post(url("emission_delete", acme, emission_id=acme.emission.id)).status_code == 404


def test_another_orgs_record_id_is_404_inside_ones_own_project(client_for, world):
    acme, globex = world.acme, world.globex
    client = client_for(globex.users["owner"])
    assert client.get(url("emission", globex, emission_id=acme.emission.id)).status_code == 404
    assert client.post(url("emission_delete", globex, emission_id=acme.emission.id)).status_code == 404
    assert client.get(url("evidence_download", globex, evidence_id=acme.evidence.id)).status_code == 404
    with context.tenant_context(acme.organisation.id):
        assert EmissionRecord.objects.filter(id=acme.emission.id).exists()
