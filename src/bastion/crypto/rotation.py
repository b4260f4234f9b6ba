"""Key rotation for one organisation, in steps that each commit on their own, so it can be
stopped at any moment and run again: every value stays readable throughout.

1. ``new_versions``: the organisation's next KEK version re-wraps all its data keys, and a new
   data key version becomes the one new values are encrypted with.
2. ``reencrypt``: every encrypted column of every row still under an older data key is re-sealed
   under the newest, in batches (already-current rows are skipped, so a re-run resumes).
3. ``retire_unused``: data key versions that no value uses any more are marked retired. They are
   not deleted: backups taken before the rotation still need them. Old KEK versions are kept for
   the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

from bastion.crypto import envelope, keyring
from bastion.crypto.fields import EncryptedField
from bastion.crypto.key_models import DataKey, IndexKey


def encrypted_models() -> list[tuple[type[models.Model], list[str]]]:
    found = []
    for model in apps.get_models():
        names = [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedField)]
        if names:
            found.append((model, names))
    return found


def new_versions(organisation_id: str) -> int:
    """Re-wrap under a new KEK and start a new data key version; returns that version."""
    provider = keyring.organisation_provider(organisation_id)
    provider.new_kek(organisation_id)
    with transaction.atomic():
        for row in DataKey.objects.select_for_update().filter(organisation_id=organisation_id):
            keyring.rewrap(row, keyring.version(organisation_id, row.version),
                           keyring.wrap_context(organisation_id, row.version), provider)
        index = IndexKey.objects.select_for_update().filter(organisation_id=organisation_id).first()
        if index is not None:  # the blind-index key keeps its value (indexes stay valid), only its wrapping changes
            keyring.rewrap(index, keyring.index_key(organisation_id), keyring.index_wrap_context(organisation_id),
                           provider)
        version = keyring.create_version(organisation_id).version
    keyring.forget_cached(organisation_id)
    return version


def reencrypt(organisation_id: str, *, in_transaction: Callable[[], AbstractContextManager[object]], batch_size: int = 500,
              progress: Callable[[int], None] | None = None) -> int:
    """Re-seal every value under the newest data key; returns how many rows were rewritten.

    ``in_transaction()`` opens one transaction in the organisation's tenant context; every batch
    runs in its own and commits, so an interrupted run keeps what it did and a re-run resumes
    (rows already under the newest key are skipped).
    """
    with in_transaction():
        current, _ = keyring.current(organisation_id)
    done = 0
    for model, names in encrypted_models():
        last = None
        while True:
            with in_transaction():
                queryset = model._base_manager.filter(organisation_id=organisation_id).order_by("pk")
                if last is not None:
                    queryset = queryset.filter(pk__gt=last)
                rows = list(queryset.values_list("pk", *names)[:batch_size])
                if not rows:
                    break
                last = rows[-1][0]
                stale = [row[0] for row in rows
                         if any(v is not None and envelope.key_version_of(str(v)) != current for v in row[1:])]
                for row in model._base_manager.select_for_update().filter(pk__in=stale):
                    for name in names:
                        getattr(row, name)  # open under its old version before it is sealed again
                    row.save(update_fields=names)
            done += len(stale)
            if progress:
                progress(done)
    return done


def versions_in_use(organisation_id: str) -> set[int]:
    used = set()
    for model, names in encrypted_models():
        for values in model._base_manager.filter(organisation_id=organisation_id).values_list(*names).iterator():
            used |= {envelope.key_version_of(str(v)) for v in values if v is not None}
    return used


def retire_unused(organisation_id: str) -> list[int]:
    current, _ = keyring.current(organisation_id)
    used = versions_in_use(organisation_id) | {current}
    retired = []
    with transaction.atomic():
        for row in DataKey.objects.filter(organisation_id=organisation_id, retired_at__isnull=True):
            if row.version not in used:
                row.retired_at = timezone.now()
                row.save(update_fields=["retired_at"])
                retired.append(row.version)
    keyring.forget_cached(organisation_id)
    return retired


def due(organisation_id: str, max_age_days: int) -> bool:
    newest = DataKey.objects.filter(organisation_id=organisation_id).order_by("-version").first()
    return newest is None or (timezone.now() - newest.created_at).days >= max_age_days
