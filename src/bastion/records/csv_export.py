"""CSV export of a project's emissions or energy records, in the columns the import reads; the
export is audited. Cells go through ``bastion.spreadsheets``, so no formula runs when it is opened."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from bastion import spreadsheets
from bastion.audit import chain as audit
from bastion.records.audit_actions import RECORDS_EXPORTED
from bastion.records.csv_import import COLUMNS
from bastion.records.models import EmissionRecord, EnergyRecord
from bastion.tenancy.models import Project


def _value(record, name: str):
    if name == "supplier":
        return record.supplier.name if record.supplier else ""
    return getattr(record, name)


def export_records(project: Project, kind: str) -> bytes:
    if kind not in COLUMNS:
        raise ValidationError({"kind": ValidationError("Use 'emissions' or 'energy'.", code="unknown_kind")})
    header = COLUMNS[kind]["required"] + COLUMNS[kind]["optional"]
    records: QuerySet[EmissionRecord] | QuerySet[EnergyRecord] = (
        EmissionRecord.objects.filter(project=project).select_related("supplier") if kind == "emissions"
        else EnergyRecord.objects.filter(project=project)
    )
    rows = [[_value(record, name) for name in header] for record in records.order_by("period_start", "id")]
    with transaction.atomic():
        audit.record(RECORDS_EXPORTED, organisation_id=project.organisation_id, resource_type="project",
                     resource_id=project.id, changes={"kind": kind, "rows": len(rows)})
    return spreadsheets.csv_bytes(header, rows)
