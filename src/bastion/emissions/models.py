"""Custom emission factors of an organisation (versioned: a change is a new version, never an
edit) and the calculation of each emissions record: the factor chosen, a copy of its value and
provenance, and the kgCO2e. Totals read the stored figures, so a new factor version never changes
a past total."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from bastion.records.models import EmissionRecord
from bastion.records.vocabulary import ALL_CATEGORIES, UNITS
from bastion.tenancy.models import TenantModel

BASES = {"": "—", "location": "Location-based (scope 2)", "market": "Market-based (scope 2)"}
KEY_VALIDATOR = RegexValidator(r"^[a-z0-9][a-z0-9_]{0,79}$", "Use lower-case letters, digits and underscores.",
                               code="invalid_key")


class EmissionFactor(TenantModel):
    key = models.CharField(max_length=80, validators=[KEY_VALIDATOR])
    version = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=40, choices=sorted(ALL_CATEGORIES.items()))
    unit = models.CharField(max_length=20, choices=sorted(UNITS.items()), help_text="the activity unit (per …)")
    kgco2e_per_unit = models.DecimalField(max_digits=24, decimal_places=9, validators=[MinValueValidator(Decimal("0"))])
    basis = models.CharField(max_length=10, blank=True, choices=sorted(BASES.items()))
    publisher = models.CharField(max_length=200)
    dataset = models.CharField(max_length=300, blank=True)
    year = models.PositiveSmallIntegerField()
    licence = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["organisation", "key", "version"], name="factor_version_unique")]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"


class Calculation(TenantModel):
    """The CO2e of one record, with the factor it was computed from copied in (value and provenance)."""

    record = models.OneToOneField(EmissionRecord, on_delete=models.CASCADE, related_name="co2e")
    factor_ref = models.CharField(max_length=120)
    factor_name = models.CharField(max_length=200)
    factor_value = models.DecimalField(max_digits=24, decimal_places=9)
    factor_unit = models.CharField(max_length=20)
    factor_publisher = models.CharField(max_length=200)
    factor_dataset = models.CharField(max_length=300, blank=True)
    factor_year = models.PositiveSmallIntegerField()
    factor_licence = models.CharField(max_length=200, blank=True)
    kgco2e = models.DecimalField(max_digits=24, decimal_places=6)
    market_factor_ref = models.CharField(max_length=120, blank=True)
    market_factor_value = models.DecimalField(max_digits=24, decimal_places=9, null=True, blank=True)
    market_factor_unit = models.CharField(max_length=20, blank=True)
    kgco2e_market = models.DecimalField(max_digits=24, decimal_places=6, null=True, blank=True)
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    computed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.kgco2e} kgCO2e ({self.factor_ref})"
