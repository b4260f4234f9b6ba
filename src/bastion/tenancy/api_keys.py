"""Creating and revoking an organisation's API keys, each audited in the same transaction."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Sequence

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from bastion.audit import chain as audit
from bastion.crypto import api_keys
from bastion.crypto.models import ApiKey
from bastion.tenancy.audit_actions import API_KEY_ADDRESS_CHANGED, API_KEY_CREATED, API_KEY_REVOKED
from bastion.tenancy.models import Organisation
from bastion.tenancy.permissions import Grant, unknown_permissions

MAX_LIFETIME_DAYS = 366


def create(organisation: Organisation, *, name: str, scopes: list[str], expires_in_days: int,
           creator: AbstractBaseUser, creator_grants: Sequence[Grant]) -> tuple[ApiKey, str]:
    """The new key and its token; the token is returned this once and never again."""
    errors = {}
    if unknown := unknown_permissions(scopes):
        errors["scopes"] = ValidationError(f"Unknown permissions: {', '.join(unknown)}.", code="unknown_permission")
    organisation_grant = next((g for g in creator_grants if g.scope == "organisation"), None)
    held = organisation_grant.permissions() if organisation_grant else frozenset()
    if not errors and not set(scopes) <= held:
        errors["scopes"] = ValidationError("A key can only hold permissions you hold yourself.", code="exceeds_grantor")
    if not scopes:
        errors["scopes"] = ValidationError("Give the key at least one permission.", code="required")
    if not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
        errors["expires_in_days"] = ValidationError(f"Between 1 and {MAX_LIFETIME_DAYS} days.", code="out_of_range")
    if not name.strip():
        errors["name"] = ValidationError("Name the key after what uses it.", code="required")
    if errors:
        raise ValidationError(errors)
    new = api_keys.generate()
    with transaction.atomic():
        key = ApiKey.objects.create(
            organisation_id=organisation.id, public_id=new.public_id, secret_hash=new.secret_hash, name=name.strip(),
            scopes=sorted(set(scopes)), created_by_id=creator.pk, created_by_label=creator.get_username(),
            expires_at=timezone.now() + datetime.timedelta(days=expires_in_days),
        )
        audit.record(API_KEY_CREATED, organisation_id=organisation.id, resource_type="api_key", resource_id=key.id,
                     changes={"name": key.name, "preview": key.preview, "scopes": key.scopes,
                              "expires_at": key.expires_at})
    return key, new.token


def revoke(key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        with transaction.atomic():
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            audit.record(API_KEY_REVOKED, organisation_id=key.organisation_id, resource_type="api_key",
                         resource_id=key.id, changes={"name": key.name, "preview": key.preview})
    return key


def record_address_change(organisation_id: uuid.UUID | str, key_id: str, previous_ip: str) -> None:
    """An API key is used from another address than at its last recorded use (checked at most once
    a minute per key): audited, with the address before, so that security monitoring sees keys that
    only read (reads are not audit events) move to a new network."""
    with transaction.atomic():
        audit.record(API_KEY_ADDRESS_CHANGED, organisation_id=organisation_id, resource_type="api_key",
                     resource_id=key_id, changes={"previous_ip": previous_ip})
