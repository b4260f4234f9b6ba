"""Exports of emissions records (with their kgCO2e and factor) and of totals, as CSV or XLSX, of
what the filters show. Each file is made as an encrypted ephemeral artifact (audited when made,
audited and deleted when handed over), like every other export. Cells go through
``bastion.spreadsheets`` so no text runs as a formula."""

from __future__ import annotations

import io
from decimal import Decimal

from django.db.models import QuerySet
from openpyxl import Workbook

from bastion import spreadsheets
from bastion.crypto.models import Artifact
from bastion.emissions import totals as totals_service
from bastion.emissions.audit_actions import EMISSIONS_EXPORTED
from bastion.records.models import EmissionRecord
from bastion.tenancy import artifacts
from bastion.tenancy.models import Organisation

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
RECORD_COLUMNS = ["period_start", "period_end", "scope", "category", "activity", "quantity", "unit", "site",
                  "kgco2e", "kgco2e_market_based", "factor", "factor_value", "factor_unit", "factor_publisher",
                  "factor_dataset", "factor_licence"]


def record_rows(records: QuerySet[EmissionRecord]) -> tuple[list[str], list[list]]:
    rows = []
    for record in records.select_related("co2e").order_by("period_start", "id"):
        calc = getattr(record, "co2e", None)
        rows.append([record.period_start, record.period_end, record.scope, record.category, record.activity,
                     record.quantity, record.unit, record.site,
                     calc.kgco2e if calc else None, calc.kgco2e_market if calc else None,
                     calc.factor_ref if calc else "", calc.factor_value if calc else None,
                     calc.factor_unit if calc else "", calc.factor_publisher if calc else "",
                     calc.factor_dataset if calc else "", calc.factor_licence if calc else ""])
    return RECORD_COLUMNS, rows


def totals_rows(records: QuerySet[EmissionRecord]) -> tuple[list[str], list[list]]:
    result = totals_service.compute(records).as_dict()
    rows: list[list] = [["total", "all", result["total_kgco2e"]],
                        ["total_market_based", "all", result["total_kgco2e_market_based"]]]
    rows += [["scope", item["scope"], item["kgco2e"]] for item in result["by_scope"]]
    rows.append(["scope_2_market_based", 2, result["scope_2_market_based_kgco2e"]])
    rows += [["category", item["category"], item["kgco2e"]] for item in result["by_category"]]
    rows += [["site", item["site"], item["kgco2e"]] for item in result["by_site"]]
    rows += [["year", item["year"], item["total"]] for item in result["by_year"]]
    return ["dimension", "key", "kgco2e"], rows


def _xlsx_cell(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return spreadsheets.cell(value)
    return float(value) if isinstance(value, Decimal) else value


def _xlsx(header: list[str], rows: list[list], title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append([spreadsheets.cell(name) for name in header])
    for row in rows:
        # Numbers stay numbers (sums work); text is neutralised like in CSV (openpyxl makes "=…" a formula).
        sheet.append([_xlsx_cell(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(organisation: Organisation, records: QuerySet[EmissionRecord], *, what: str, fmt: str) -> Artifact:
    """The file as an encrypted ephemeral artifact (audited); ``artifacts.consume`` hands it over."""
    header, rows = record_rows(records) if what == "records" else totals_rows(records)
    content = spreadsheets.csv_bytes(header, rows) if fmt == "csv" else _xlsx(header, rows, what)
    return artifacts.create(organisation, [content], purpose="export", action=EMISSIONS_EXPORTED)


def filename(what: str, fmt: str) -> str:
    return f"emissions-{what}.{fmt}"
