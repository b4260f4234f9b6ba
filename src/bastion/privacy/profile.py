"""Correcting one's profile (Art. 16). Names here; the email address through allauth's own flow
(``/accounts/email/``): the new address is confirmed by a link sent to it, and the old one is told."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from bastion.audit import chain as audit
from bastion.privacy.audit_actions import PROFILE_CORRECTED

CORRECTABLE = {"first_name": 150, "last_name": 150}


def correct(user, changes: dict[str, str]) -> list[str]:
    """Apply ``changes`` to ``user``; returns the fields that changed (audited, without their values)."""
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValidationError({name: ValidationError("Unknown field.", code="unknown_field") for name in sorted(unknown)})
    for name, value in changes.items():
        if len(value.strip()) > CORRECTABLE[name]:
            raise ValidationError({name: ValidationError("Too long.", code="max_length")})
    changed = sorted(name for name, value in changes.items() if getattr(user, name) != value.strip())
    if not changed:
        return []
    for name in changed:
        setattr(user, name, changes[name].strip())
    with transaction.atomic():
        user.save(update_fields=changed)
        audit.record(PROFILE_CORRECTED, resource_type="user", resource_id=user.pk, changes={"fields": changed})
    return changed
