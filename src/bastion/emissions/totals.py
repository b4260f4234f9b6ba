"""Totals of stored kgCO2e by scope, category, site and year, with year-on-year change. Scope 2 is
given location-based and market-based (a record without a market-based factor counts its
location-based figure in the market-based total, as the GHG Protocol's scope 2 guidance allows
when no contractual instrument exists). Sums are exact decimals, the same on every database."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal

from django.db.models import QuerySet

from bastion.records.models import EmissionRecord
from bastion.records.vocabulary import ALL_CATEGORIES

ZERO = Decimal(0)


@dataclasses.dataclass
class Totals:
    total_kgco2e: Decimal = ZERO
    total_kgco2e_market: Decimal = ZERO  # scope 2 market-based in place of location-based
    by_scope: dict[int, Decimal] = dataclasses.field(default_factory=dict)
    scope2_market_kgco2e: Decimal = ZERO
    by_category: dict[str, Decimal] = dataclasses.field(default_factory=dict)
    by_site: dict[str, Decimal] = dataclasses.field(default_factory=dict)
    by_year_scope: dict[int, dict[int, Decimal]] = dataclasses.field(default_factory=dict)
    records: int = 0
    uncalculated: int = 0

    def years(self) -> list[dict]:
        """Each year's total by scope and its change from the year before (None when there is none)."""
        rows, previous = [], None
        for year in sorted(self.by_year_scope):
            scopes = self.by_year_scope[year]
            total = sum(scopes.values(), ZERO)
            change = None
            if previous is not None and previous != 0:
                change = ((total - previous) / previous * 100).quantize(Decimal("0.1"))
            rows.append({"year": year, "scope_1": scopes.get(1, ZERO), "scope_2": scopes.get(2, ZERO),
                         "scope_3": scopes.get(3, ZERO), "total": total, "change_percent": change})
            previous = total
        return rows

    def as_dict(self) -> dict:
        return {
            "total_kgco2e": self.total_kgco2e,
            "total_kgco2e_market_based": self.total_kgco2e_market,
            "by_scope": [{"scope": s, "kgco2e": v} for s, v in sorted(self.by_scope.items())],
            "scope_2_market_based_kgco2e": self.scope2_market_kgco2e,
            "by_category": [{"category": c, "label": ALL_CATEGORIES.get(c, c), "kgco2e": v}
                            for c, v in sorted(self.by_category.items(), key=lambda item: (-item[1], item[0]))],
            "by_site": [{"site": s, "kgco2e": v} for s, v in sorted(self.by_site.items(), key=lambda i: (-i[1], i[0]))],
            "by_year": self.years(),
            "records": self.records,
            "uncalculated_records": self.uncalculated,
        }


def _add(mapping: dict, key, value: Decimal) -> None:
    mapping[key] = mapping.get(key, ZERO) + value


def compute(records: QuerySet[EmissionRecord]) -> Totals:
    totals = Totals()
    by_year: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rows = records.values_list("scope", "category", "site", "period_start", "co2e__kgco2e", "co2e__kgco2e_market")
    for scope, category, site, period_start, kg, kg_market in rows.order_by():
        totals.records += 1
        if kg is None:
            totals.uncalculated += 1
            continue
        totals.total_kgco2e += kg
        market = kg_market if (scope == 2 and kg_market is not None) else kg
        totals.total_kgco2e_market += market
        if scope == 2:
            totals.scope2_market_kgco2e += market
        _add(totals.by_scope, scope, kg)
        _add(totals.by_category, category, kg)
        _add(totals.by_site, site or "(no site)", kg)
        _add(by_year[period_start.year], scope, kg)
    totals.by_year_scope = dict(by_year)
    return totals
