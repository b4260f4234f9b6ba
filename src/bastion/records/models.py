"""The reference domain: emissions and energy records, suppliers and evidence files, per project."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from bastion.crypto.blind_index import BlindIndexField, normalise_email
from bastion.crypto.fields import EncryptedDecimalField, EncryptedEmailField, EncryptedTextField
from bastion.crypto.models import Artifact
from bastion.records.vocabulary import ALL_CATEGORIES, CATEGORIES, CATEGORY_SCOPE, ENERGY_SOURCES, SCOPES, UNITS
from bastion.tenancy.models import Project, TenantModel

# A reporting period longer than this is almost certainly a typing error (e.g. 2024 → 2204).
MAX_PERIOD_DAYS = 366 * 5
MAX_QUANTITY = Decimal("1e15")


class ProjectRecord(TenantModel):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if self.project_id and self.organisation_id and self.project.organisation_id != self.organisation_id:
            raise ValidationError({"project": ValidationError("Project of another organisation.", code="invalid")})


class PeriodMixin(models.Model):
    period_start = models.DateField()
    period_end = models.DateField()

    class Meta:
        abstract = True

    def clean_period(self) -> dict[str, ValidationError]:
        errors = {}
        if self.period_start and self.period_end:
            if self.period_end < self.period_start:
                errors["period_end"] = ValidationError("The period ends before it starts.", code="period_reversed")
            elif (self.period_end - self.period_start).days > MAX_PERIOD_DAYS:
                errors["period_end"] = ValidationError("A period may span at most five years.", code="period_too_long")
        return errors


class Supplier(ProjectRecord):
    name = models.CharField(max_length=200)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code")
    # Contact PII and commercial terms: encrypted per organisation, bound to this row (crypto app).
    contact_name = EncryptedTextField(max_length=200, blank=True)
    contact_email = EncryptedEmailField(max_length=254, blank=True)
    # Searchable by exact contact email without decrypting every row (crypto.blind_index).
    contact_email_index = BlindIndexField(source="contact_email", normalise=normalise_email)
    contract_value = EncryptedDecimalField(max_digits=18, decimal_places=2, null=True, blank=True,
                                           validators=[MinValueValidator(Decimal("0"))])
    notes = models.TextField(blank=True, max_length=5000)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="supplier_name_unique")]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.country and not (len(self.country) == 2 and self.country.isalpha() and self.country.isupper()):
            raise ValidationError({"country": ValidationError("Use a two-letter ISO country code, e.g. GB.", code="invalid_country")})


class EmissionRecord(ProjectRecord, PeriodMixin):
    scope = models.PositiveSmallIntegerField(choices=sorted(SCOPES.items()))
    category = models.CharField(max_length=40, choices=sorted(ALL_CATEGORIES.items()))
    activity = models.CharField(max_length=300)
    quantity = models.DecimalField(max_digits=24, decimal_places=6, validators=[MinValueValidator(Decimal("0"))])
    unit = models.CharField(max_length=20, choices=sorted(UNITS.items()))
    site = models.CharField(max_length=200, blank=True)
    supplier = models.ForeignKey(Supplier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    notes = models.TextField(blank=True, max_length=5000)

    class Meta:
        ordering = ["-period_start", "activity"]
        indexes = [models.Index(fields=["project", "period_start"]), models.Index(fields=["project", "scope"])]

    def __str__(self) -> str:
        return f"{self.activity} ({self.period_start}–{self.period_end})"

    def clean(self) -> None:
        super().clean()
        errors = self.clean_period()
        if self.scope and self.category and CATEGORY_SCOPE.get(self.category) != self.scope:
            allowed = ", ".join(CATEGORIES.get(self.scope, {}))
            errors["category"] = ValidationError(
                f"Category {self.category} is not a scope {self.scope} category (use one of: {allowed}).",
                code="category_scope_mismatch",
            )
        if self.quantity is not None and self.quantity >= MAX_QUANTITY:
            errors["quantity"] = ValidationError("The quantity is implausibly large.", code="quantity_too_large")
        if self.supplier_id and self.supplier is not None and self.supplier.project_id != self.project_id:
            errors["supplier"] = ValidationError("The supplier belongs to another project.", code="invalid")
        if errors:
            raise ValidationError(errors)


class EnergyRecord(ProjectRecord, PeriodMixin):
    meter = models.CharField(max_length=100)
    site = models.CharField(max_length=200)
    kwh = models.DecimalField("kWh", max_digits=24, decimal_places=3, validators=[MinValueValidator(Decimal("0"))])
    source = models.CharField(max_length=20, choices=sorted(ENERGY_SOURCES.items()))
    notes = models.TextField(blank=True, max_length=5000)

    class Meta:
        ordering = ["-period_start", "meter"]
        indexes = [models.Index(fields=["project", "period_start"])]

    def __str__(self) -> str:
        return f"{self.meter} @ {self.site} ({self.period_start}–{self.period_end})"

    def clean(self) -> None:
        super().clean()
        errors = self.clean_period()
        if self.kwh is not None and self.kwh >= MAX_QUANTITY:
            errors["kwh"] = ValidationError("The energy figure is implausibly large.", code="quantity_too_large")
        if errors:
            raise ValidationError(errors)


class EvidenceFile(ProjectRecord):
    """A file backing a record (an invoice, a meter reading). Its bytes live in object storage."""

    emission_record = models.ForeignKey(
        EmissionRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence"
    )
    energy_record = models.ForeignKey(EnergyRecord, null=True, blank=True, on_delete=models.CASCADE, related_name="evidence")
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    # The bytes, encrypted for this organisation before they reach object storage (crypto.artifacts).
    artifact = models.OneToOneField(Artifact, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(emission_record__isnull=True) | models.Q(energy_record__isnull=True),
                name="evidence_one_record",
            )
        ]

    def __str__(self) -> str:
        return self.filename
