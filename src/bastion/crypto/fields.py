"""Model fields whose values are stored encrypted (see ``envelope``) and read back in clear.

The database holds ciphertext only. A value read from the database stays sealed until the
attribute is first read, because opening it needs the row it belongs to (the associated data
names organisation, table, column and row id); it is sealed again, with a fresh nonce, on every
save. The model must have ``organisation_id`` and a primary key known before saving (a UUID).

Encrypted columns cannot be searched or compared in SQL (only ``isnull``); a query that tries
fails loudly instead of silently matching nothing. Search through a blind index instead.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.core import validators
from django.core.exceptions import FieldError, ValidationError
from django.db import models

from bastion.crypto import envelope



class Sealed(str):
    """A ciphertext as read from the database, not opened yet."""


class EncryptedAttribute:
    def __init__(self, field: EncryptedField):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        value = instance.__dict__.get(self.field.attname)
        if isinstance(value, Sealed):
            value = self.field.open(instance, value)
            instance.__dict__[self.field.attname] = value
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class EncryptedField(models.TextField):
    descriptor_class = EncryptedAttribute

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def to_text(self, value) -> str:
        return str(value)

    def from_text(self, text: str):
        return text

    def _ad(self, instance) -> bytes:
        if instance.pk is None:
            raise ValueError(f"{type(instance).__name__} needs its primary key before {self.name} can be encrypted")
        return envelope.associated_data(instance.organisation_id, instance._meta.db_table, self.column, instance.pk)

    def open(self, instance, sealed: Sealed):
        plaintext = envelope.decrypt(str(sealed), organisation_id=instance.organisation_id, ad=self._ad(instance))
        return self.from_text(plaintext.decode())

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if value is None:
            return None
        plaintext = self.to_text(self.to_python(value)).encode()
        return envelope.encrypt(plaintext, organisation_id=model_instance.organisation_id, ad=self._ad(model_instance))

    def get_prep_value(self, value):
        # What reaches the database is the ciphertext made by pre_save: stored as it is.
        return None if value is None else str(value)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(f"{self.name} is encrypted and cannot be searched with '{lookup_name}'")
        return super().get_lookup(lookup_name)


class EncryptedTextField(EncryptedField):
    def __init__(self, *args, max_length: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plain_max_length = max_length
        if max_length is not None:
            self.validators.append(validators.MaxLengthValidator(max_length))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.plain_max_length is not None:
            kwargs["max_length"] = self.plain_max_length
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        return forms.CharField(max_length=self.plain_max_length, required=not self.blank, **kwargs)


class EncryptedEmailField(EncryptedTextField):
    default_validators = [validators.validate_email]

    def formfield(self, **kwargs):
        return forms.EmailField(max_length=self.plain_max_length, required=not self.blank, **kwargs)


class EncryptedDecimalField(EncryptedField):
    def __init__(self, *args, max_digits: int = 18, decimal_places: int = 2, **kwargs):
        self.max_digits, self.decimal_places = max_digits, decimal_places
        super().__init__(*args, **kwargs)
        self.validators.append(validators.DecimalValidator(max_digits, decimal_places))

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(max_digits=self.max_digits, decimal_places=self.decimal_places)
        return name, path, args, kwargs

    def to_python(self, value):
        if value is None or isinstance(value, Decimal):
            return value
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError) as exc:
            raise ValidationError("Enter a number.", code="invalid") from exc
        if not number.is_finite():
            raise ValidationError("Enter a number.", code="invalid")
        return number

    def to_text(self, value) -> str:
        return format(value, "f")

    def from_text(self, text: str):
        return Decimal(text)

    def formfield(self, **kwargs):
        return forms.DecimalField(max_digits=self.max_digits, decimal_places=self.decimal_places,
                                  required=not self.blank, **kwargs)
