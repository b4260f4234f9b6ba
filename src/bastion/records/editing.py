"""Create, change and delete records and suppliers, validated the same way for API, console and CSV."""

from __future__ import annotations

from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from bastion.records.models import ProjectRecord
from bastion.tenancy.models import Project

R = TypeVar("R", bound=ProjectRecord)


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
    if instance is None:
        instance = model(organisation_id=project.organisation_id, project=project, created_by=user)
    apply_changes(instance, data)
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError({"__all__": ValidationError("This conflicts with an existing entry.", code="conflict")}) from exc
    instance.refresh_from_db()  # answer with what was stored (decimals at their stored scale)
    return instance


def delete_record(instance: models.Model) -> None:
    with transaction.atomic():
        instance.delete()


def validation_fields(error: ValidationError) -> dict[str, list[dict[str, str]]]:
    """A ``ValidationError`` as ``{field: [{"code", "message"}]}`` for API bodies and import reports."""
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
