"""Controlled vocabularies for records: GHG Protocol scopes and categories, units, energy sources."""

from __future__ import annotations

SCOPES = {1: "Scope 1 (direct)", 2: "Scope 2 (purchased energy)", 3: "Scope 3 (value chain)"}

# GHG Protocol categories, by scope. Scope 3 has the 15 categories of the Corporate Value Chain Standard.
CATEGORIES: dict[int, dict[str, str]] = {
    1: {
        "stationary_combustion": "Stationary combustion",
        "mobile_combustion": "Mobile combustion",
        "fugitive_emissions": "Fugitive emissions",
        "process_emissions": "Process emissions",
    },
    2: {
        "purchased_electricity": "Purchased electricity",
        "purchased_heat": "Purchased heat",
        "purchased_steam": "Purchased steam",
        "purchased_cooling": "Purchased cooling",
    },
    3: {
        "c01_purchased_goods_services": "1. Purchased goods and services",
        "c02_capital_goods": "2. Capital goods",
        "c03_fuel_energy": "3. Fuel- and energy-related activities",
        "c04_upstream_transport": "4. Upstream transportation and distribution",
        "c05_waste": "5. Waste generated in operations",
        "c06_business_travel": "6. Business travel",
        "c07_employee_commuting": "7. Employee commuting",
        "c08_upstream_leased_assets": "8. Upstream leased assets",
        "c09_downstream_transport": "9. Downstream transportation and distribution",
        "c10_processing_sold_products": "10. Processing of sold products",
        "c11_use_sold_products": "11. Use of sold products",
        "c12_end_of_life": "12. End-of-life treatment of sold products",
        "c13_downstream_leased_assets": "13. Downstream leased assets",
        "c14_franchises": "14. Franchises",
        "c15_investments": "15. Investments",
    },
}
ALL_CATEGORIES = {key: label for by_scope in CATEGORIES.values() for key, label in by_scope.items()}
CATEGORY_SCOPE = {key: scope for scope, by_scope in CATEGORIES.items() for key in by_scope}

UNITS = {
    "kWh": "kilowatt-hour",
    "MWh": "megawatt-hour",
    "GJ": "gigajoule",
    "therm": "therm",
    "L": "litre",
    "m3": "cubic metre",
    "kg": "kilogram",
    "t": "tonne",
    "km": "kilometre",
    "passenger_km": "passenger-kilometre",
    "tonne_km": "tonne-kilometre",
    "night": "hotel night",
    "GBP": "pound sterling spent",
    "EUR": "euro spent",
    "USD": "US dollar spent",
    "kgCO2e": "kilogram CO2-equivalent",
    "tCO2e": "tonne CO2-equivalent",
}

ENERGY_SOURCES = {
    "grid": "Grid electricity",
    "solar": "On-site solar",
    "wind": "Wind (PPA or on-site)",
    "natural_gas": "Natural gas",
    "diesel": "Diesel",
    "heat_network": "District heat",
    "other": "Other",
}
