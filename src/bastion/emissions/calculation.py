"""kgCO2e of a record: its quantity converted (pint) to the factor's unit, times the factor. The
factor's value and provenance are copied into the calculation, so a later version of the factor
changes nothing already computed; editing the record recomputes with the copy it holds."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from bastion.audit import chain as audit
from bastion.emissions import library, units
from bastion.emissions.audit_actions import FACTOR_ASSIGNED, FACTOR_CLEARED
from bastion.emissions.models import Calculation
from bastion.records.models import EmissionRecord

KG = Decimal("0.000001")


def co2e(quantity: Decimal, unit: str, factor_value: Decimal, factor_unit: str) -> Decimal:
    try:
        converted = units.convert(quantity, unit, factor_unit)
    except units.UnitMismatch as exc:
        raise ValidationError({"factor": ValidationError(str(exc), code="unit_mismatch")}) from exc
    return (converted * factor_value).quantize(KG, rounding=ROUND_HALF_EVEN)


def _check(record: EmissionRecord, factor: library.Factor, *, market: bool) -> None:
    if factor.source != "direct" and factor.category != record.category:
        raise ValidationError({"factor": ValidationError(
            f"This factor is for {factor.category}, the record is {record.category}.", code="category_mismatch")})
    if market and (record.scope != 2 or factor.basis != "market"):
        raise ValidationError({"market_factor": ValidationError(
            "A market-based factor applies to scope 2 records and must have the market basis.", code="not_market")})
    if not market and factor.basis == "market":
        raise ValidationError({"factor": ValidationError(
            "Choose a location-based factor here and the market-based one as market_factor.", code="market_as_location")})


def assign(record: EmissionRecord, factor_ref: str, market_factor_ref: str | None = None, *, user=None) -> Calculation:
    """Choose the record's factor (and, for scope 2, its market-based one) and store its kgCO2e, audited."""
    factor = library.resolve(record.organisation_id, factor_ref)
    _check(record, factor, market=False)
    market = None
    if market_factor_ref:
        try:
            market = library.resolve(record.organisation_id, market_factor_ref)
        except ValidationError as exc:
            raise ValidationError({"market_factor": exc.error_dict["factor"]}) from exc
        _check(record, market, market=True)
    with transaction.atomic():
        calculation = Calculation.objects.filter(record=record).first() or Calculation(
            organisation_id=record.organisation_id, record=record)
        calculation.chosen_by = user
        calculation.factor_ref, calculation.factor_name = factor.ref, factor.name
        calculation.factor_value, calculation.factor_unit = factor.kgco2e_per_unit, factor.unit
        calculation.factor_publisher, calculation.factor_dataset = factor.publisher, factor.dataset
        calculation.factor_year, calculation.factor_licence = factor.year, factor.licence
        calculation.market_factor_ref = market.ref if market else ""
        calculation.market_factor_value = market.kgco2e_per_unit if market else None
        calculation.market_factor_unit = market.unit if market else ""
        _compute(record, calculation)
        calculation.save()
        audit.record(FACTOR_ASSIGNED, organisation_id=record.organisation_id, resource_type="emission_record",
                     resource_id=record.id, changes={"factor": factor.ref, "market_factor": calculation.market_factor_ref,
                                                     "kgco2e": calculation.kgco2e,
                                                     "kgco2e_market": calculation.kgco2e_market})
    return calculation


def clear(record: EmissionRecord) -> None:
    with transaction.atomic():
        deleted, _ = Calculation.objects.filter(record=record).delete()
        if deleted:
            audit.record(FACTOR_CLEARED, organisation_id=record.organisation_id, resource_type="emission_record",
                         resource_id=record.id, changes={})


def _compute(record: EmissionRecord, calculation: Calculation) -> None:
    calculation.kgco2e = co2e(record.quantity, record.unit, calculation.factor_value, calculation.factor_unit)
    calculation.kgco2e_market = (
        co2e(record.quantity, record.unit, calculation.market_factor_value, calculation.market_factor_unit)
        if calculation.market_factor_value is not None else None)


def recompute_after_edit(sender, instance: EmissionRecord, created: bool, raw: bool = False, **kwargs) -> None:
    """A record's quantity or unit changed: its kgCO2e follows, from the factor copy it already holds.
    A unit the factor cannot take any more (kWh → litres) drops the calculation, audited."""
    if created or raw:
        return
    calculation = Calculation.objects.filter(record_id=instance.pk).first()
    if calculation is None:
        return
    try:
        _compute(instance, calculation)
    except ValidationError:
        clear(instance)
        return
    calculation.save(update_fields=["kgco2e", "kgco2e_market", "computed_at"])
