"""The emission-factor library: the shipped set (published factors read from ``data/``, each with
its provenance) and the organisation's custom factors, under one reference form:
``desnz/<key>@<year>`` for a shipped factor, ``custom/<key>@<version>`` for a custom one, and
``direct/kgCO2e@1`` for records already measured in CO2e. A reference names one version for ever."""

from __future__ import annotations

import csv
import dataclasses
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bastion.audit import chain as audit
from bastion.emissions import units
from bastion.emissions.audit_actions import FACTOR_CREATED
from bastion.emissions.models import EmissionFactor
from bastion.records.vocabulary import CATEGORY_SCOPE

DATA_FILE = Path(__file__).parent / "data" / "uk_ghg_conversion_factors.csv"


@dataclasses.dataclass(frozen=True)
class Factor:
    ref: str
    key: str
    version: int
    name: str
    category: str
    unit: str
    kgco2e_per_unit: Decimal
    basis: str
    publisher: str
    dataset: str
    year: int
    licence: str
    source: str  # "shipped", "custom" or "direct"

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


DIRECT = Factor(ref="direct/kgCO2e@1", key="kgCO2e", version=1, name="Measured CO2e (no conversion)", category="",
                unit="kgCO2e", kgco2e_per_unit=Decimal(1), basis="", publisher="—", dataset="", year=0, licence="",
                source="direct")


@cache
def shipped() -> tuple[Factor, ...]:
    with DATA_FILE.open(newline="", encoding="utf-8") as handle:
        return tuple(
            Factor(ref=f"desnz/{row['key']}@{row['version']}", key=row["key"], version=int(row["version"]),
                   name=row["name"], category=row["category"], unit=row["unit"],
                   kgco2e_per_unit=Decimal(row["kgco2e_per_unit"]), basis=row["basis"], publisher=row["publisher"],
                   dataset=row["dataset"], year=int(row["year"]), licence=row["licence"], source="shipped")
            for row in csv.DictReader(handle)
        )


def _custom(factor: EmissionFactor) -> Factor:
    return Factor(ref=f"custom/{factor.key}@{factor.version}", key=factor.key, version=factor.version,
                  name=factor.name, category=factor.category, unit=factor.unit,
                  kgco2e_per_unit=factor.kgco2e_per_unit, basis=factor.basis, publisher=factor.publisher,
                  dataset=factor.dataset, year=factor.year, licence=factor.licence, source="custom")


def available(organisation_id, *, category: str | None = None) -> list[Factor]:
    """Every factor the organisation may choose: the shipped set and its own custom factors."""
    custom = EmissionFactor.objects.filter(organisation_id=organisation_id)
    factors = [*shipped(), *(_custom(f) for f in custom)]
    return [f for f in factors if category is None or f.category == category]


def resolve(organisation_id, ref: str) -> Factor:
    """The factor a reference names, or a ``ValidationError`` (``unknown_factor``)."""
    if ref == DIRECT.ref:
        return DIRECT
    source, _, rest = ref.partition("/")
    key, _, version = rest.partition("@")
    if source == "desnz":
        found = next((f for f in shipped() if f.ref == ref), None)
        if found:
            return found
    elif source == "custom" and version.isdigit():
        custom = EmissionFactor.objects.filter(organisation_id=organisation_id, key=key, version=int(version)).first()
        if custom:
            return _custom(custom)
    raise ValidationError({"factor": ValidationError("No such emission factor.", code="unknown_factor")})


def suggest(organisation_id, category: str, unit: str, year: int | None = None) -> list[Factor]:
    """Factors for a record's category whose unit its quantity converts to; the best first: the
    same unit, then the factor of the record's year (else the latest before it, else the newest)."""
    if unit in ("kgCO2e", "tCO2e"):
        return [DIRECT]
    candidates = [f for f in available(organisation_id, category=category) if units.compatible(unit, f.unit)]

    def rank(factor: Factor) -> tuple:
        if year is None:
            distance = -factor.year
        else:
            distance = (year - factor.year) if factor.year <= year else 1000 + factor.year - year
        return (factor.unit != unit, factor.basis == "market", distance, factor.source != "custom", factor.ref)

    return sorted(candidates, key=rank)


def create_custom_factor(organisation_id, data: dict, *, user=None) -> EmissionFactor:
    """A new custom factor, or the next version of an existing key (its earlier versions stay as they were)."""
    data = dict(data)
    for name in ("key", "category", "unit"):
        if not data.get(name):
            raise ValidationError({name: ValidationError("This field is required.", code="required")})
    if data.get("basis") and CATEGORY_SCOPE.get(data["category"]) != 2:
        raise ValidationError({"basis": ValidationError("Location and market bases are for scope 2 factors.",
                                                        code="basis_not_scope_2")})
    try:
        with transaction.atomic():
            latest = (EmissionFactor.objects.select_for_update().filter(organisation_id=organisation_id, key=data["key"])
                      .order_by("-version").first())
            factor = EmissionFactor(organisation_id=organisation_id, version=(latest.version + 1) if latest else 1,
                                    created_by=user, **data)
            factor.full_clean()
            factor.save()
            audit.record(FACTOR_CREATED, organisation_id=organisation_id, resource_type="emission_factor",
                         resource_id=factor.id, changes={"ref": _custom(factor).ref, "unit": factor.unit,
                                                         "kgco2e_per_unit": factor.kgco2e_per_unit})
    except IntegrityError as exc:
        raise ValidationError({"version": ValidationError("Another version was created at the same time.",
                                                          code="conflict")}) from exc
    return factor


def as_factor(factor: EmissionFactor) -> Factor:
    return _custom(factor)
