"""Searching encrypted columns without decrypting them: a keyed HMAC blind index.

``BlindIndexField("contact_email", normalise=normalise_email)`` stores, next to the encrypted
column, ``HMAC-SHA-256(index key, table|column|normalised value)``. An equality search computes
the same digest for the searched value and matches it in SQL. The index key is per organisation
and lives, wrapped by the organisation's KEK, in ``IndexKey``: the same value in two
organisations has unrelated digests, and shredding an organisation destroys its index key too.

A blind index reveals which rows share a value (that is what makes it searchable), so only the
columns that need an exact-match search get one. Empty values are not indexed.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.exceptions import FieldError
from django.db import models

from bastion.crypto import keyring


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_text(value: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def digest(organisation_id: uuid.UUID | str, table: str, column: str, normalised: str) -> str:
    key = keyring.index_key(organisation_id)
    return hmac.new(key, f"{table}|{column}|{normalised}".encode(), hashlib.sha256).hexdigest()


_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True)


class BlindIndexField(models.CharField[_ST, _GT]):
    """The blind index of another (encrypted) field of the same model, kept up to date on save."""

    def __init__(self, source: str = "", normalise: Callable[[str], str] = normalise_text, **kwargs: Any) -> None:
        self.source, self.normalise = source, normalise
        kwargs.update(max_length=64, null=True, blank=True, editable=False, db_index=True)
        super().__init__(**kwargs)

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        for key in ("max_length", "null", "blank", "editable", "db_index"):
            kwargs.pop(key, None)
        kwargs.update(source=self.source, normalise=self.normalise)
        return name, path, args, kwargs

    def value_for(self, organisation_id: uuid.UUID | str, value: object) -> str | None:
        if value is None or not str(value).strip():
            return None
        source = self.model._meta.get_field(self.source)
        if not isinstance(source, models.Field) or source.column is None:
            raise FieldError(f"{self.name} indexes {self.source!r}, which is not a column of {self.model.__name__}")
        return digest(organisation_id, self.model._meta.db_table, source.column, self.normalise(str(value)))

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        organisation_id: uuid.UUID = getattr(model_instance, "organisation_id")  # noqa: B009 (not on Model's type)
        index = self.value_for(organisation_id, getattr(model_instance, self.source))
        setattr(model_instance, self.attname, index)
        return index


def matching(model: type[models.Model], source: str, value: str, *, organisation_id: uuid.UUID | str) -> models.Q:
    """A filter for the rows of ``organisation_id`` whose encrypted ``source`` equals ``value``
    (after the index's normalisation)."""
    field = next(f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField) and f.source == source)
    index = field.value_for(organisation_id, value)
    if index is None:
        return models.Q(pk__in=[])
    return models.Q(organisation_id=organisation_id, **{field.attname: index})
