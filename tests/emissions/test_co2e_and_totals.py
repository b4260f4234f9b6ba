"""CO2e from the shipped factors, computed by hand and by Bastion; factor versions leave past
totals as they were; totals by scope, category, site and year through the API; the outsider sees
neither another organisation's factors nor its figures."""

from __future__ import annotations

import csv
import datetime
import json
from decimal import Decimal
from pathlib import Path

import pytest

from bastion.audit.models import AuditEvent
from bastion.emissions import calculation, library
from bastion.emissions.models import Calculation
from bastion.records.models import EmissionRecord
from bastion.tenancy import context

DATA = Path(__file__).parents[2] / "src" / "bastion" / "emissions" / "data" / "uk_ghg_conversion_factors.csv"


def _published(key: str, year: int) -> Decimal:
    """The factor as the data file states it (read here with csv, not through the library)."""
    with DATA.open(newline="", encoding="utf-8") as handle:
        return next(Decimal(r["kgco2e_per_unit"]) for r in csv.DictReader(handle)
                    if r["key"] == key and r["version"] == str(year))


def _record(ns, **fields) -> EmissionRecord:
    defaults = {"activity": "test", "site": "Leeds", "period_start": datetime.date(2024, 1, 1),
                "period_end": datetime.date(2024, 12, 31)}
    return EmissionRecord.objects.create(organisation=ns.organisation, project=ns.project, **{**defaults, **fields})


def _url(ns, suffix: str) -> str:
    return f"/api/v1/orgs/{ns.slug}{suffix}"


def _put(client, url, body):
    return client.put(url, data=json.dumps(body), content_type="application/json")


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_co2e_of_records_matches_a_hand_computation_from_the_shipped_factors(world, client_for):
    acme = world.acme
    with context.tenant_context(acme.organisation.id):
        EmissionRecord.objects.filter(project=acme.project).delete()
        gas = _record(acme, scope=1, category="stationary_combustion", quantity=Decimal("3.5"), unit="MWh")
        therms = _record(acme, scope=1, category="stationary_combustion", quantity=Decimal("100"), unit="therm")
        diesel = _record(acme, scope=1, category="mobile_combustion", quantity=Decimal("2000"), unit="m3", site="Hull")
        power = _record(acme, scope=2, category="purchased_electricity", quantity=Decimal("12000"), unit="kWh")
    client = client_for(acme.users["editor"])
    project = f"/projects/{acme.project.id}"
    # The suggestion for gas in MWh in 2024 is the 2024 gas factor; for diesel in m3, the litre factor.
    suggested = client.get(_url(acme, f"{project}/emissions/{gas.id}/factor")).json()["suggestions"]
    assert suggested[0]["ref"] == "desnz/natural_gas_kwh_gross@2024"
    for record, ref in [(gas, "desnz/natural_gas_kwh_gross@2024"), (therms, "desnz/natural_gas_kwh_gross@2024"),
                        (diesel, "desnz/diesel_average_biofuel_blend_litres@2024"),
                        (power, "desnz/uk_electricity_kwh@2024")]:
        answer = _put(client, _url(acme, f"{project}/emissions/{record.id}/factor"), {"factor": ref})
        assert answer.status_code == 200, answer.content

    # By hand: 1 MWh = 1000 kWh; 1 therm = 100 000 BTU(IT) = 105.505585262 MJ; 1 m3 = 1000 L.
    gas_kg = Decimal("3500") * _published("natural_gas_kwh_gross", 2024)
    therm_kg = Decimal("100") * Decimal("105.505585262") / Decimal("3.6") * _published("natural_gas_kwh_gross", 2024)
    diesel_kg = Decimal("2000000") * _published("diesel_average_biofuel_blend_litres", 2024)
    power_kg = Decimal("12000") * _published("uk_electricity_kwh", 2024)
    assert gas_kg == Decimal("640.15") and power_kg == Decimal("2484.6")

    totals = client.get(_url(acme, f"{project}/emission-totals")).json()
    by_scope = {row["scope"]: Decimal(row["kgco2e"]) for row in totals["by_scope"]}
    assert by_scope[1] == (gas_kg + therm_kg + diesel_kg).quantize(Decimal("0.000001"))
    assert by_scope[2] == power_kg
    by_site = {row["site"]: Decimal(row["kgco2e"]) for row in totals["by_site"]}
    assert by_site["Hull"] == diesel_kg
    assert totals["uncalculated_records"] == 0 and totals["records"] == 4
    # Filters narrow the totals: scope 2 only.
    scope2 = client.get(_url(acme, f"{project}/emission-totals?scope=2")).json()
    assert Decimal(scope2["total_kgco2e"]) == power_kg
    # Editing the quantity recomputes with the same factor copy.
    diesel.quantity = Decimal("1")
    diesel.unit = "L"
    with context.tenant_context(acme.organisation.id):
        diesel.save()
        assert Calculation.objects.get(record=diesel).kgco2e == _published("diesel_average_biofuel_blend_litres", 2024)
    # Every choice is audited.
    with context.tenant_context(acme.organisation.id):
        assert AuditEvent.objects.filter(action="emission_record.factor_assigned", resource_id=str(power.id)).exists()


def test_a_new_factor_version_leaves_last_years_totals_unchanged(world, client_for):
    acme = world.acme
    admin = client_for(acme.users["admin"])
    first = _post(admin, _url(acme, "/emission-factors"), {
        "key": "supplier_green_tariff", "name": "Green tariff (supplier-specific)", "category": "purchased_electricity",
        "unit": "kWh", "kgco2e_per_unit": "0.05", "basis": "market", "publisher": "Octopus Energy", "year": 2024})
    assert first.status_code == 201, first.content
    assert first.json()["ref"] == "custom/supplier_green_tariff@1"
    with context.tenant_context(acme.organisation.id):
        EmissionRecord.objects.filter(project=acme.project).delete()
        last_year = _record(acme, scope=2, category="purchased_electricity", quantity=Decimal("1000"), unit="kWh")
        calculation.assign(last_year, "desnz/uk_electricity_kwh@2024", "custom/supplier_green_tariff@1")
    project = f"/projects/{acme.project.id}"
    before = admin.get(_url(acme, f"{project}/emission-totals?period_to=2024-12-31")).json()
    assert Decimal(before["scope_2_market_based_kgco2e"]) == Decimal("50")
    assert Decimal(before["total_kgco2e"]) == Decimal("207.05")

    second = _post(admin, _url(acme, "/emission-factors"), {
        "key": "supplier_green_tariff", "name": "Green tariff (supplier-specific)", "category": "purchased_electricity",
        "unit": "kWh", "kgco2e_per_unit": "0.09", "basis": "market", "publisher": "Octopus Energy", "year": 2025})
    assert second.status_code == 201 and second.json()["ref"] == "custom/supplier_green_tariff@2"
    after = admin.get(_url(acme, f"{project}/emission-totals?period_to=2024-12-31")).json()
    assert after == before
    # Both versions stay in the library; the 2025 record is suggested the 2025 version.
    refs = [f["ref"] for f in admin.get(_url(acme, "/emission-factors?category=purchased_electricity")).json()]
    assert {"custom/supplier_green_tariff@1", "custom/supplier_green_tariff@2"} <= set(refs)


def test_outsider_sees_no_custom_factor_and_cannot_use_one(world, client_for):
    globex_admin = client_for(world.globex.users["admin"])
    made = _post(globex_admin, _url(world.globex, "/emission-factors"), {
        "key": "globex_secret_blend", "name": "Globex secret blend", "category": "stationary_combustion",
        "unit": "kWh", "kgco2e_per_unit": "0.3", "publisher": "Globex", "year": 2024})
    assert made.status_code == 201
    acme_owner = client_for(world.acme.users["owner"])
    listing = acme_owner.get(_url(world.acme, "/emission-factors"))
    assert listing.status_code == 200 and "globex" not in listing.content.decode().lower()
    assert acme_owner.get(_url(world.globex, "/emission-factors")).status_code == 404
    answer = _put(acme_owner, _url(world.acme, f"/projects/{world.acme.project.id}/emissions/{world.acme.emission.id}/factor"),
                  {"factor": "custom/globex_secret_blend@1"})
    assert answer.status_code == 422 and answer.json()["error"]["fields"]["factor"]
    with context.tenant_context(world.acme.organisation.id):
        assert library.available(world.acme.organisation.id, category="stationary_combustion")
        assert all(f.source != "custom" for f in library.available(world.acme.organisation.id))


@pytest.mark.parametrize(("body", "field"), [
    ({"factor": "desnz/uk_electricity_kwh@2024"}, "factor"),  # a scope 2 factor for a scope 1 record
    ({"factor": "desnz/no_such@2024"}, "factor"),
    ({"factor": "desnz/lpg_litres@2024"}, "factor"),  # litres cannot take kWh
])
def test_bad_choices_are_422_with_the_field(world, client_for, body, field):
    client = client_for(world.acme.users["editor"])
    url = _url(world.acme, f"/projects/{world.acme.project.id}/emissions/{world.acme.emission.id}/factor")
    answer = _put(client, url, body)
    assert answer.status_code == 422, answer.content
    assert field in answer.json()["error"]["fields"]


def test_viewer_cannot_choose_a_factor_nor_create_one(world, client_for):
    viewer = client_for(world.acme.users["viewer"])
    url = _url(world.acme, f"/projects/{world.acme.project.id}/emissions/{world.acme.emission.id}/factor")
    assert _put(viewer, url, {"factor": "desnz/natural_gas_kwh_gross@2024"}).status_code == 403
    assert _post(viewer, _url(world.acme, "/emission-factors"), {}).status_code == 403
    assert viewer.get(url).status_code == 200
