"""The data inventory: each Bastion app's ``data_inventory.DATA_CLASSES`` (next to its models)
joined with the models themselves, so the published table lists every stored field."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from django.apps import apps
from django.db import models

CLASSES = ("personal", "confidential", "secret", "operational")


@dataclass(frozen=True)
class Field:
    app: str
    model: str
    table: str
    field: str
    data_class: str | None  # None: not classified (the inventory test fails)


def bastion_models() -> list[type[models.Model]]:
    """Every concrete model Bastion defines (Django's auto-created many-to-many tables excluded)."""
    return [model for model in apps.get_models() if model.__module__.startswith("bastion.")]


def declared(app_module: str) -> dict[str, dict[str, str]]:
    try:
        module = importlib.import_module(f"{app_module}.data_inventory")
    except ModuleNotFoundError:
        return {}
    return dict(getattr(module, "DATA_CLASSES", {}))


def fields() -> list[Field]:
    rows = []
    for model in bastion_models():
        config = model._meta.app_config
        assert config is not None
        classes = declared(config.name).get(model.__name__, {})
        for field in model._meta.concrete_fields:
            rows.append(Field(config.label, model.__name__, model._meta.db_table, field.name,
                              classes.get(field.name)))
    return rows


def unclassified() -> list[str]:
    return [f"{row.app}.{row.model}.{row.field}" for row in fields()
            if row.data_class not in CLASSES]


def summary() -> list[dict]:
    """One row per model: the fields of each class (seed 004's table of the data types stored)."""
    by_model: dict[tuple[str, str], dict] = {}
    for row in fields():
        entry = by_model.setdefault((row.app, row.model), {
            "app": row.app, "model": row.model, "table": row.table, **{name: [] for name in CLASSES}})
        if row.data_class in CLASSES:
            entry[row.data_class].append(row.field)
    return list(by_model.values())
