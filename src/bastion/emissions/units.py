"""Record units as pint quantities: conversion between an activity's unit and a factor's unit is
pint's (litres, cubic metres, kWh, MWh, GJ, therms, tonnes …), with the few units of GHG
accounting that are not physical (passenger-km, hotel nights, currencies, CO2e) defined once."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

import pint

PINT_NAMES = {
    "kWh": "kilowatt_hour", "MWh": "megawatt_hour", "GJ": "gigajoule", "therm": "therm_it", "L": "liter",
    "m3": "meter ** 3", "kg": "kilogram", "t": "metric_ton", "km": "kilometer", "passenger_km": "passenger_km",
    "tonne_km": "tonne_km", "night": "hotel_night", "GBP": "GBP", "EUR": "EUR", "USD": "USD",
    "kgCO2e": "kgCO2e", "tCO2e": "tCO2e",
}
DEFINITIONS = (
    # 100 000 International Table BTU (1055.05585262 J): pint's own therm rounds the BTU to 1055.056 J.
    "therm_it = 105.505585262 * megajoule",
    "passenger = [passenger]",
    "passenger_km = passenger * kilometer",
    "tonne_km = metric_ton * kilometer",
    "hotel_night = [hotel_night]",
    "GBP = [currency_gbp]",
    "EUR = [currency_eur]",
    "USD = [currency_usd]",
    "kgCO2e = [co2e]",
    "tCO2e = 1000 * kgCO2e",
)


class UnitMismatch(ValueError):
    def __init__(self, from_unit: str, to_unit: str) -> None:
        super().__init__(f"A quantity in {from_unit} cannot be converted to {to_unit}.")
        self.from_unit, self.to_unit = from_unit, to_unit


@cache
def registry() -> pint.UnitRegistry:
    units: pint.UnitRegistry = pint.UnitRegistry(non_int_type=Decimal)
    for definition in DEFINITIONS:
        units.define(definition)
    return units


def compatible(from_unit: str, to_unit: str) -> bool:
    units = registry()
    return units.Quantity(Decimal(1), PINT_NAMES[from_unit]).is_compatible_with(PINT_NAMES[to_unit])


def convert(quantity: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """``quantity`` in ``from_unit`` expressed in ``to_unit`` (both codes of ``records.vocabulary.UNITS``)."""
    if from_unit == to_unit:
        return quantity
    if not compatible(from_unit, to_unit):
        raise UnitMismatch(from_unit, to_unit)
    value = registry().Quantity(Decimal(quantity), PINT_NAMES[from_unit]).to(PINT_NAMES[to_unit]).magnitude
    return Decimal(str(value))
