"""Create, change and delete records and suppliers, validated the same way for API, console and CSV."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from bastion.audit import chain as audit
from bastion.records import audit_actions as actions
from bastion.records.models import EmissionRecord, EnergyRecord, ProjectRecord, Supplier
from bastion.tenancy.models import Project

R = TypeVar("R", bound=ProjectRecord)

AUDIT_NAMES = {EmissionRecord: "emission_record", EnergyRecord: "energy_record", Supplier: "supplier"}
CHANGE_ACTIONS = {
    (EmissionRecord, "created"): actions.EMISSION_RECORD_CREATED,
    (EmissionRecord, "updated"): actions.EMISSION_RECORD_UPDATED,
    (EmissionRecord, "deleted"): actions.EMISSION_RECORD_DELETED,
    (EnergyRecord, "created"): actions.ENERGY_RECORD_CREATED,
    (EnergyRecord, "updated"): actions.ENERGY_RECORD_UPDATED,
    (EnergyRecord, "deleted"): actions.ENERGY_RECORD_DELETED,
    (Supplier, "created"): actions.SUPPLIER_CREATED,
    (Supplier, "updated"): actions.SUPPLIER_UPDATED,
    (Supplier, "deleted"): actions.SUPPLIER_DELETED,
}
# Personal data and commercial terms: the audit log says that they changed, never to what.
SENSITIVE_FIELDS = frozenset({"contact_name", "contact_email", "contract_value"})


def audited_fields(instance: models.Model) -> dict[str, Any]:
    return {
        f.attname: getattr(instance, f.attname)
        for f in instance._meta.concrete_fields
        if f.editable and f.name not in {"id", "organisation", "created_by"}
    }


def audit_record(change: str, instance: ProjectRecord, changes: dict[str, Any]) -> None:
    audit.record(
        CHANGE_ACTIONS[(type(instance), change)],
        organisation_id=instance.organisation_id,
        resource_type=AUDIT_NAMES[type(instance)],
        resource_id=instance.pk,
        changes=changes,
    )


def apply_changes(instance: R, data: dict) -> R:
    """Set editable fields from ``data``; unknown names are a field error, not silently ignored."""
    editable = {f.name for f in instance._meta.concrete_fields if f.editable and not f.primary_key} - {
        "organisation",
        "project",
        "created_by",
    }
    unknown = set(data) - editable - {f"{name}_id" for name in editable}
    if unknown:
        raise ValidationError({name: ValidationError("Unknown field.", code="unknown_field") for name in sorted(unknown)})
    for name, value in data.items():
        setattr(instance, name, value)
    return instance


def save_record(model: type[R], project: Project, data: dict, *, user=None, instance: R | None = None) -> R:
    created = instance is None
    if instance is None:
        instance = model(organisation_id=project.organisation_id, project=project, created_by=user)
    before = {} if created else audited_fields(instance)
    apply_changes(instance, data)
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
            instance.refresh_from_db()  # record and answer what was stored (decimals at their stored scale)
            changes = audit.diff(before, audited_fields(instance), sensitive=SENSITIVE_FIELDS)
            audit_record("created" if created else "updated", instance, changes)
    except IntegrityError as exc:
        raise ValidationError({"__all__": ValidationError("This conflicts with an existing entry.", code="conflict")}) from exc
    return instance


def delete_record(instance: ProjectRecord) -> None:
    with transaction.atomic():
        audit_record("deleted", instance, audit.diff(audited_fields(instance), {}, sensitive=SENSITIVE_FIELDS))
        instance.delete()


def validation_fields(error: ValidationError) -> dict[str, list[dict[str, str]]]:
    """A ``ValidationError`` as ``{field: [{"code", "message"}]}`` for API bodies and import reports."""
    items: Iterable[tuple[str, list[ValidationError]]]
    if hasattr(error, "error_dict"):
        items = error.error_dict.items()
    else:
        items = [("__all__", error.error_list)]
    fields: dict[str, list[dict[str, str]]] = {}
    for name, errors in items:
        for item in errors:
            message = item.message % item.params if item.params else item.message
            fields.setdefault(name, []).append({"code": item.code or "invalid", "message": str(message)})
    return fields
