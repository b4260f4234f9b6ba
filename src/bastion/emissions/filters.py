"""The records a view or an export is about: a project's or a workspace's, narrowed by scope,
category, site and period (overlap), the same for the console, the API and exports."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from bastion.records.models import EmissionRecord
from bastion.records.vocabulary import ALL_CATEGORIES


def filtered(records: QuerySet[EmissionRecord], *, scope: int | None = None, category: str | None = None,
             site: str | None = None, period_from: datetime.date | None = None,
             period_to: datetime.date | None = None) -> QuerySet[EmissionRecord]:
    errors = {}
    if scope is not None and scope not in (1, 2, 3):
        errors["scope"] = ValidationError("Use 1, 2 or 3.", code="invalid_scope")
    if category and category not in ALL_CATEGORIES:
        errors["category"] = ValidationError("Unknown category.", code="invalid_category")
    if period_from and period_to and period_to < period_from:
        errors["period_to"] = ValidationError("period_to is before period_from.", code="period_reversed")
    if errors:
        raise ValidationError(errors)
    if scope is not None:
        records = records.filter(scope=scope)
    if category:
        records = records.filter(category=category)
    if site:
        records = records.filter(site=site)
    if period_from:
        records = records.filter(period_end__gte=period_from)
    if period_to:
        records = records.filter(period_start__lte=period_to)
    return records
