"""CSV import of emissions and energy records: every row is validated, then all or nothing is saved."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from bastion.audit import chain as audit
from bastion.records.audit_actions import RECORDS_IMPORTED
from bastion.records.editing import validation_fields
from bastion.records.models import EmissionRecord, EnergyRecord, Supplier
from bastion.tenancy.models import Project

COLUMNS = {
    "emissions": {
        "required": ["scope", "category", "activity", "quantity", "unit", "period_start", "period_end"],
        "optional": ["site", "supplier", "notes"],
    },
    "energy": {
        "required": ["meter", "site", "kwh", "source", "period_start", "period_end"],
        "optional": ["notes"],
    },
}


class CsvImportError(ValueError):
    """The file as a whole cannot be read (encoding, header, size); nothing was imported."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ImportReport:
    kind: str
    rows: int = 0
    created: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"row", "field", "code", "message"}

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "rows": self.rows, "created": self.created, "errors": self.errors}


def _date(value: str) -> date:
    return date.fromisoformat(value.strip())


def _decimal(value: str) -> Decimal:
    number = Decimal(value.strip())
    if not number.is_finite():
        raise InvalidOperation
    return number


_PARSERS: dict[str, tuple[Callable[[str], object], str, str]] = {
    "period_start": (_date, "Use an ISO date, e.g. 2025-01-31.", "invalid_date"),
    "period_end": (_date, "Use an ISO date, e.g. 2025-01-31.", "invalid_date"),
    "quantity": (_decimal, "Use a number, e.g. 1250.5.", "invalid_number"),
    "kwh": (_decimal, "Use a number, e.g. 1250.5.", "invalid_number"),
    "scope": (int, "Use 1, 2 or 3.", "invalid_scope"),
}


def _read(data: bytes) -> list[dict[str, str]]:
    if len(data) > settings.BASTION_CSV_MAX_BYTES:
        raise CsvImportError("file_too_large", f"The file is larger than {settings.BASTION_CSV_MAX_BYTES} bytes.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CsvImportError("invalid_encoding", "The file is not UTF-8 text.") from exc
    if "\x00" in text:
        raise CsvImportError("invalid_encoding", "The file contains NUL bytes; it is not a CSV file.")
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise CsvImportError("malformed_csv", f"The CSV cannot be parsed: {exc}.") from exc
    if reader.fieldnames is None:
        raise CsvImportError("empty_file", "The file is empty.")
    if len(rows) > settings.BASTION_CSV_MAX_ROWS:
        raise CsvImportError("too_many_rows", f"At most {settings.BASTION_CSV_MAX_ROWS} rows per import.")
    return rows


def _check_header(spec: dict[str, list[str]], header: list[str]) -> None:
    missing = [c for c in spec["required"] if c not in header]
    unknown = [c for c in header if c not in spec["required"] + spec["optional"]]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(f"missing columns: {', '.join(missing)}")
        if unknown:
            parts.append(f"unknown columns: {', '.join(str(c) for c in unknown)}")
        raise CsvImportError("invalid_header", "The header is wrong: " + "; ".join(parts) + ".")


def _row_values(number: int, row: dict[str, str], suppliers: dict[str, Supplier]) -> tuple[dict[str, Any],
                                                                                            list[dict[str, Any]]]:
    """One row's field values, parsed, and the errors of those that do not parse."""
    values: dict[str, Any] = {}
    row_errors: list[dict[str, Any]] = []
    for name, raw in row.items():
        raw = raw.strip()
        if name == "supplier":
            if raw and raw not in suppliers:
                row_errors.append({"row": number, "field": "supplier", "code": "unknown_supplier",
                                   "message": f"No supplier named {raw!r} in this project."})
            elif raw:
                values["supplier"] = suppliers[raw]
        elif name in _PARSERS and raw:
            parse, message, code = _PARSERS[name]
            try:
                values[name] = parse(raw)
            except (ValueError, InvalidOperation):
                row_errors.append({"row": number, "field": name, "code": code, "message": message})
        else:
            values[name] = raw
    return values, row_errors


def import_records(project: Project, kind: str, data: bytes, *, user=None) -> ImportReport:
    if kind not in COLUMNS:
        raise CsvImportError("unknown_kind", "Import kind must be 'emissions' or 'energy'.")
    rows = _read(data)
    spec = COLUMNS[kind]
    header = list(rows[0].keys()) if rows else []
    if not rows:
        raise CsvImportError("empty_file", "The file has a header but no rows.")
    _check_header(spec, header)

    model: type[EmissionRecord] | type[EnergyRecord] = EmissionRecord if kind == "emissions" else EnergyRecord
    suppliers = {s.name: s for s in Supplier.objects.filter(project=project)} if kind == "emissions" else {}
    report = ImportReport(kind=kind, rows=len(rows))
    instances: list[Any] = []  # of ``model``: one kind per import
    for number, row in enumerate(rows, start=2):  # row 1 is the header
        if None in row or any(value is None for value in row.values()):
            report.errors.append({"row": number, "field": "__all__", "code": "column_count",
                                  "message": "The row has a different number of columns than the header."})
            continue
        values, row_errors = _row_values(number, row, suppliers)
        instance = model(organisation_id=project.organisation_id, project=project, created_by=user, **values)
        try:
            instance.full_clean(exclude=[e["field"] for e in row_errors])
        except ValidationError as exc:
            for name, errors in validation_fields(exc).items():
                row_errors.extend({"row": number, "field": name, **e} for e in errors)
        report.errors.extend(row_errors)
        instances.append(instance)
    if report.errors:
        return report
    with transaction.atomic():
        model.objects.bulk_create(instances, batch_size=500)
        audit.record(RECORDS_IMPORTED, organisation_id=project.organisation_id, resource_type="project",
                     resource_id=project.id, changes={"kind": kind, "rows": len(instances)})
    report.created = len(instances)
    return report
