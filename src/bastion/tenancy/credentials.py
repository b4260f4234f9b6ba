"""The credentials vault's flows: store, rotate, use and delete a third-party credential, each
audited in the same transaction. The secret goes in once and comes out only through ``use``,
which records who used it and what for; nothing returns it to a person."""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.audit.context import current_actor
from bastion.crypto.models import Credential
from bastion.tenancy.audit_actions import CREDENTIAL_DELETED, CREDENTIAL_ROTATED, CREDENTIAL_STORED, CREDENTIAL_USED
from bastion.tenancy.models import Organisation

MIN_PREVIEWABLE = 20  # shorter secrets show no characters at all


def preview_of(secret: str) -> str:
    return f"…{secret[-4:]}" if len(secret) >= MIN_PREVIEWABLE else "…"


def _summary(credential: Credential) -> dict[str, Any]:
    return {"name": credential.name, "service": credential.service, "kind": credential.kind,
            "preview": credential.preview, "version": credential.version, "expires_at": credential.expires_at,
            "has_refresh_token": credential.refresh_token is not None}


def _expiry(expires_at: datetime.datetime | None) -> datetime.datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None or not 2000 <= expires_at.astimezone(datetime.UTC).year <= 9998:
        raise ValidationError({"expires_at": ValidationError(
            "Give a date between the years 2000 and 9998, with its time zone.", code="invalid_expiry")})
    return expires_at.astimezone(datetime.UTC)


def _check_secret(secret: str, refresh_token: str | None, kind: str) -> None:
    errors = {}
    if not secret.strip():
        errors["secret"] = ValidationError("The secret is empty.", code="required")
    if refresh_token is not None and kind != "oauth":
        errors["refresh_token"] = ValidationError("Only OAuth credentials have a refresh token.", code="not_oauth")
    if errors:
        raise ValidationError(errors)


def store(organisation: Organisation, *, name: str, service: str, kind: str, secret: str,
          refresh_token: str | None = None, expires_at: datetime.datetime | None = None) -> Credential:
    _check_secret(secret, refresh_token, kind)
    expires_at = _expiry(expires_at)
    credential = Credential(organisation_id=organisation.id, name=name.strip(), service=service.strip().lower(),
                            kind=kind, secret=secret, refresh_token=refresh_token, preview=preview_of(secret),
                            expires_at=expires_at, created_by_label=current_actor().label)
    credential.full_clean(validate_unique=False)
    try:
        with transaction.atomic():
            credential.save(force_insert=True)
            audit.record(CREDENTIAL_STORED, organisation_id=organisation.id, resource_type="credential",
                         resource_id=credential.id, changes=_summary(credential))
    except IntegrityError as exc:
        raise ValidationError({"name": ValidationError("A credential with this name exists.", code="duplicate")}) from exc
    return credential


def rotate(credential: Credential, *, secret: str, refresh_token: str | None = None,
           expires_at: datetime.datetime | None = None) -> Credential:
    """Replace the secret (the third party issued a new one); the old one is gone."""
    _check_secret(secret, refresh_token, credential.kind)
    expires_at = _expiry(expires_at)
    with transaction.atomic():
        credential.secret, credential.refresh_token, credential.expires_at = secret, refresh_token, expires_at
        credential.preview = preview_of(secret)
        credential.version += 1
        credential.rotated_at = timezone.now()
        credential.full_clean(validate_unique=False)
        credential.save()
        audit.record(CREDENTIAL_ROTATED, organisation_id=credential.organisation_id, resource_type="credential",
                     resource_id=credential.id, changes=_summary(credential))
    return credential


@contextlib.contextmanager
def use(credential: Credential, *, purpose: str) -> Iterator[Credential]:
    """Open the credential for one use by an integration; the use is audited before the secret is
    read, and the event commits even if the use then fails."""
    if not purpose.strip():
        raise ValueError("say what the credential is used for")
    with transaction.atomic():
        credential.last_used_at, credential.last_used_by = timezone.now(), current_actor().label
        credential.save(update_fields=["last_used_at", "last_used_by"])
        audit.record(CREDENTIAL_USED, organisation_id=credential.organisation_id, resource_type="credential",
                     resource_id=credential.id,
                     changes={"name": credential.name, "service": credential.service, "purpose": purpose})
    yield credential


def delete(credential: Credential) -> None:
    with transaction.atomic():
        audit.record(CREDENTIAL_DELETED, organisation_id=credential.organisation_id, resource_type="credential",
                     resource_id=credential.id, changes=_summary(credential))
        credential.delete()
