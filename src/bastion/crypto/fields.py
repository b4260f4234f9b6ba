"""Model fields whose values are stored encrypted (see ``envelope``) and read back in clear.

The database holds ciphertext only. A value read from the database stays sealed until the
attribute is first read, because opening it needs the row it belongs to (the associated data
names organisation, table, column and row id); it is sealed again, with a fresh nonce, on every
save. The model must have ``organisation_id`` and a primary key known before saving (a UUID).

Encrypted columns cannot be searched or compared in SQL (only ``isnull``); a query that tries
fails loudly instead of silently matching nothing. Search through a blind index instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django import forms
from django.core import validators
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models import Lookup

from bastion.crypto import envelope

# The value types a model attribute takes and gives (set, get), as django-stubs' own fields declare them.
_ST = TypeVar("_ST", contravariant=True)
_GT = TypeVar("_GT", covariant=True)


class Sealed(str):
    """A ciphertext as read from the database, not opened yet."""


class EncryptedAttribute:
    def __init__(self, field: EncryptedField[Any, Any]) -> None:
        self.field = field

    def __get__(self, instance: models.Model | None, owner: type[models.Model] | None = None) -> object:
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance: models.Model, value: object) -> None:
        instance.__dict__[self.field.attname] = value


class EncryptedField(models.TextField[_ST, _GT]):
    descriptor_class = EncryptedAttribute

    def from_db_value(self, value: str | None, expression: object, connection: object) -> Sealed | None:
        return None if value is None else Sealed(value)

    def to_text(self, value: object) -> str:
        return str(value)

    def from_text(self, text: str) -> object:
        return text

    def _ad(self, instance: models.Model) -> bytes:
        if instance.pk is None:
            raise ValueError(f"{type(instance).__name__} needs its primary key before {self.name} can be encrypted")
        return envelope.associated_data(_organisation_id(instance), instance._meta.db_table, self.column, instance.pk)

    def open(self, instance: models.Model, sealed: Sealed) -> object:
        plaintext = envelope.decrypt(str(sealed), organisation_id=_organisation_id(instance), ad=self._ad(instance))
        return self.from_text(plaintext.decode())

    def pre_save(self, model_instance: models.Model, add: bool) -> str | None:
        value = getattr(model_instance, self.attname)
        if value is None:
            return None
        plaintext = self.to_text(self.to_python(value)).encode()
        return envelope.encrypt(plaintext, organisation_id=_organisation_id(model_instance),
                                ad=self._ad(model_instance))

    def get_prep_value(self, value: object) -> str | None:
        # What reaches the database is the ciphertext made by pre_save: stored as it is.
        return None if value is None else str(value)

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        if lookup_name != "isnull":
            raise FieldError(f"{self.name} is encrypted and cannot be searched with '{lookup_name}'")
        return super().get_lookup(lookup_name)


class EncryptedTextField(EncryptedField[_ST, _GT]):
    def __init__(self, *args: Any, max_length: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plain_max_length = max_length
        if max_length is not None:
            self.validators.append(validators.MaxLengthValidator(max_length))

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def formfield(self, form_class: type[forms.Field] | None = None,
                  choices_form_class: type[forms.ChoiceField] | None = None, **kwargs: Any) -> forms.Field:
        options: dict[str, Any] = {"max_length": self.plain_max_length, "required": not self.blank, **kwargs}
        return (form_class or forms.CharField)(**options)


class EncryptedEmailField(EncryptedTextField[_ST, _GT]):
    default_validators = [validators.validate_email]

    def formfield(self, form_class: type[forms.Field] | None = None,
                  choices_form_class: type[forms.ChoiceField] | None = None, **kwargs: Any) -> forms.Field:
        options: dict[str, Any] = {"max_length": self.plain_max_length, "required": not self.blank, **kwargs}
        return (form_class or forms.EmailField)(**options)


class EncryptedDecimalField(EncryptedField[_ST, _GT]):
    # A Decimal, not the str django-stubs gives every TextField.
    _pyi_private_set_type: Decimal | str | int | float  # type: ignore[assignment]
    _pyi_private_get_type: Decimal  # type: ignore[assignment]

    def __init__(self, *args: Any, max_digits: int = 18, decimal_places: int = 2, **kwargs: Any) -> None:
        self.max_digits, self.decimal_places = max_digits, decimal_places
        super().__init__(*args, **kwargs)
        self.validators.append(validators.DecimalValidator(max_digits, decimal_places))

    def deconstruct(self) -> tuple[str, str, Sequence[Any], dict[str, Any]]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(max_digits=self.max_digits, decimal_places=self.decimal_places)
        return name, path, args, kwargs

    def to_python(self, value: object) -> Decimal | None:
        if value is None or isinstance(value, Decimal):
            return value
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError("Enter a number.", code="invalid") from exc
        if not number.is_finite():
            raise ValidationError("Enter a number.", code="invalid")
        return number

    def to_text(self, value: object) -> str:
        return format(value, "f")

    def from_text(self, text: str) -> Decimal:
        return Decimal(text)

    def formfield(self, form_class: type[forms.Field] | None = None,
                  choices_form_class: type[forms.ChoiceField] | None = None, **kwargs: Any) -> forms.Field:
        options: dict[str, Any] = {"max_digits": self.max_digits, "decimal_places": self.decimal_places,
                                   "required": not self.blank, **kwargs}
        return (form_class or forms.DecimalField)(**options)


def _organisation_id(instance: models.Model) -> uuid.UUID:
    """The organisation a row of an encrypted model belongs to: every such model has the column,
    which django-stubs' ``Model`` cannot know."""
    organisation_id: uuid.UUID = getattr(instance, "organisation_id")  # noqa: B009
    return organisation_id
