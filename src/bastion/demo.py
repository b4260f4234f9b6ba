"""Demo data: two organisations (acme, globex) with users of every role and a few hundred records."""

from __future__ import annotations

import datetime
import random
import secrets
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction

from bastion.config import env
from bastion.emissions import calculation, library
from bastion.records.editing import save_record
from bastion.records.models import EmissionRecord, EnergyRecord, Supplier
from bastion.tenancy import actions, context
from bastion.tenancy.models import Organisation

ROLES = ("owner", "admin", "editor", "viewer")
ORGANISATIONS = {
    "acme": ("Acme Manufacturing", ["UK Operations", "EU Operations"], ["Manchester plant", "Leeds depot", "Lyon plant"]),
    "globex": ("Globex Logistics", ["Fleet", "Warehousing"], ["Rotterdam hub", "Felixstowe hub", "Birmingham DC"]),
}
EMISSION_TEMPLATES = [
    (1, "stationary_combustion", "Natural gas for boilers", "kWh", (8_000, 60_000)),
    (1, "mobile_combustion", "Diesel for company vans", "L", (500, 6_000)),
    (1, "fugitive_emissions", "Refrigerant top-up (R410A)", "kg", (1, 25)),
    (2, "purchased_electricity", "Grid electricity", "kWh", (20_000, 180_000)),
    (2, "purchased_heat", "District heating", "kWh", (2_000, 30_000)),
    (3, "c01_purchased_goods_services", "Steel coil purchases", "t", (10, 400)),
    (3, "c04_upstream_transport", "Inbound road freight", "tonne_km", (5_000, 90_000)),
    (3, "c06_business_travel", "Flights (short haul)", "passenger_km", (1_000, 40_000)),
    (3, "c07_employee_commuting", "Employee commuting survey", "passenger_km", (10_000, 150_000)),
    (3, "c05_waste", "General waste to landfill", "t", (1, 60)),
]
# Illustrative custom factors for the demo's activities the shipped (UK government) set does not cover:
# labelled as such, so nobody mistakes them for published values.
DEMO_FACTORS = [
    ("demo_district_heat", "District heating (illustrative)", "purchased_heat", "kWh", "0.17", ""),
    ("demo_green_tariff", "Renewable electricity tariff (supplier-specific, illustrative)", "purchased_electricity",
     "kWh", "0.0", "market"),
    ("demo_refrigerant_r410a", "Refrigerant R410A (GWP 2088, illustrative)", "fugitive_emissions", "kg", "2088", ""),
    ("demo_steel", "Steel coil, cradle to gate (illustrative)", "c01_purchased_goods_services", "t", "1850", ""),
    ("demo_road_freight", "HGV road freight (illustrative)", "c04_upstream_transport", "tonne_km", "0.107", ""),
    ("demo_flights", "Short-haul flights (illustrative)", "c06_business_travel", "passenger_km", "0.151", ""),
    ("demo_commuting", "Commuting mix (illustrative)", "c07_employee_commuting", "passenger_km", "0.09", ""),
    ("demo_landfill", "General waste to landfill (illustrative)", "c05_waste", "t", "497", ""),
]
SUPPLIERS = [("Northern Steel Ltd", "GB"), ("RhineFreight GmbH", "DE"), ("Atlas Packaging", "NL"), ("Volta Energy", "FR")]


def demo_password() -> tuple[str, bool]:
    configured = env("BASTION_DEMO_PASSWORD")
    return (configured, False) if configured else (secrets.token_urlsafe(12), True)


def has_data() -> bool:
    with context.platform_scope():
        return Organisation.objects.exists()


def set_passwords(password: str) -> None:
    user_model = get_user_model()
    with transaction.atomic():
        for slug in ORGANISATIONS:
            for role in ROLES:
                user = user_model.objects.filter(email=f"{role}@{slug}.example").first()
                if user:
                    user.set_password(password)
                    user.save(update_fields=["password"])


def _month_periods(year: int) -> list[tuple[datetime.date, datetime.date]]:
    periods = []
    for month in range(1, 13):
        start = datetime.date(year, month, 1)
        end = (datetime.date(year + (month == 12), month % 12 + 1, 1)) - datetime.timedelta(days=1)
        periods.append((start, end))
    return periods


def create(password: str, *, seed: int = 2025) -> None:
    rng = random.Random(seed)
    user_model = get_user_model()
    for slug, (name, workspaces, sites) in ORGANISATIONS.items():
        users = {
            role: user_model.objects.create_user(
                email=f"{role}@{slug}.example", password=password, first_name=role.title(), last_name=name.split()[0],
                email_verified=True,
            )
            for role in ROLES
        }
        organisation = actions.create_organisation(name=name, slug=slug, owner=users["owner"])
        with context.tenant_context(organisation.id):
            for role in ROLES[1:]:
                actions.add_membership(organisation, user=users[role], role=role)
            for key, f_name, category, unit, value, basis in DEMO_FACTORS:
                library.create_custom_factor(organisation.id, {
                    "key": key, "name": f_name, "category": category, "unit": unit, "kgco2e_per_unit": Decimal(value),
                    "basis": basis, "publisher": f"{name} (demo data, illustrative)", "year": 2024,
                    "licence": "demo"})
            for ws_name in workspaces:
                workspace = actions.create_workspace(organisation, name=ws_name, description=f"{name} — {ws_name}")
                for year in (2024, 2025):
                    project = actions.create_project(workspace, name=f"FY{year} GHG inventory")
                    # Through the same audited action as a person's edit: each record is an event.
                    suppliers = [
                        save_record(Supplier, project, {
                            "name": s_name, "country": country, "contact_name": "Accounts team",
                            "contact_email": f"accounts@{s_name.split()[0].lower()}.example",
                            "contract_value": Decimal(rng.randrange(20_000, 900_000)),
                        })
                        for s_name, country in SUPPLIERS
                    ]
                    for start, end in _month_periods(year):
                        for scope, category, activity, unit, (low, high) in rng.sample(EMISSION_TEMPLATES, 3):
                            record = save_record(EmissionRecord, project, {
                                "scope": scope, "category": category, "activity": activity,
                                "quantity": Decimal(rng.randrange(low * 10, high * 10)) / 10, "unit": unit,
                                "period_start": start, "period_end": end, "site": rng.choice(sites),
                                "supplier": rng.choice(suppliers) if scope == 3 else None,
                            })
                            _choose_factor(record, rng)
                    for start, end in _month_periods(year):
                        for i, site in enumerate(sites[:2]):
                            save_record(EnergyRecord, project, {
                                "meter": f"MTR-{i + 1:03d}", "site": site, "kwh": Decimal(rng.randrange(5_000, 90_000)),
                                "source": rng.choice(["grid", "grid", "solar", "natural_gas"]),
                                "period_start": start, "period_end": end,
                            })


def _choose_factor(record: EmissionRecord, rng: random.Random) -> None:
    """The first suggested factor, as an analyst would choose it; for some electricity, a green tariff too."""
    suggestions = library.suggest(record.organisation_id, record.category, record.unit, record.period_start.year)
    location = [f for f in suggestions if f.basis != "market"]
    market = [f for f in suggestions if f.basis == "market"]
    if location:
        calculation.assign(record, location[0].ref, market[0].ref if market and rng.random() < 0.3 else None)
