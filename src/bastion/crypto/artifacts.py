"""Encrypted artifacts: every file Bastion puts in object storage is encrypted here first, with
its own random key, in the streaming format of ``streams``; the storage provider only ever holds
ciphertext under a random name. The file's key is kept in its ``Artifact`` row, sealed under the
organisation's data key (so it follows key rotation and crypto-shredding).

Audit events for artifacts are written by the callers (``records.evidence``,
``tenancy.artifacts``), which know what the file is and who acts.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import secrets
import tempfile
import uuid
from collections.abc import Iterable, Iterator

from django.conf import settings
from django.core.files import File
from django.core.files.storage import Storage, storages
from django.db import models, transaction
from django.utils import timezone

from bastion.crypto import streams
from bastion.crypto.envelope import DecryptionFailed
from bastion.crypto.models import Artifact

SPOOL_IN_MEMORY = 1024 * 1024  # larger files are spooled through a temporary file on disk


class ArtifactUnreadable(Exception):
    """The stored file is missing, altered or no longer decryptable (its keys were destroyed)."""


def _storage() -> Storage:
    return storages["default"]


def _ad(artifact: Artifact) -> bytes:
    return f"bastion-artifact|{artifact.organisation_id}|{artifact.id}".encode()


def put(organisation_id: uuid.UUID | str, chunks: Iterable[bytes], *, purpose: str, ephemeral: bool = False,
        lifetime: datetime.timedelta | None = None) -> Artifact:
    """Encrypt ``chunks`` and upload them; the row is saved in the caller's transaction.

    If that transaction rolls back, the uploaded object stays behind but its key does not: it is
    ciphertext nobody can open (a storage lifecycle rule may sweep such objects)."""
    artifact = Artifact(id=uuid.uuid4(), organisation_id=organisation_id, purpose=purpose, ephemeral=ephemeral)
    artifact.storage_key = f"org/{organisation_id}/{purpose}/{artifact.id}"
    if ephemeral:
        artifact.expires_at = timezone.now() + (lifetime or datetime.timedelta(days=settings.BASTION_EPHEMERAL_ARTIFACT_DAYS))
    key = secrets.token_bytes(32)
    artifact.file_key = base64.b64encode(key).decode()
    digest, size = hashlib.sha256(), 0

    def measured() -> Iterator[bytes]:
        nonlocal size
        for piece in chunks:
            digest.update(piece)
            size += len(piece)
            yield piece

    with tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY) as spool:
        for piece in streams.encrypt(measured(), key, _ad(artifact)):
            spool.write(piece)
        spool.seek(0)
        saved = _storage().save(artifact.storage_key, File(spool, name=artifact.storage_key))
    if saved != artifact.storage_key:  # never expected: the name is a fresh UUID
        _storage().delete(saved)
        raise ArtifactUnreadable(f"object storage renamed {artifact.storage_key} to {saved}")
    artifact.size, artifact.sha256 = size, digest.hexdigest()
    artifact.full_clean()
    artifact.save(force_insert=True)
    return artifact


def read(artifact: Artifact, storage: Storage | None = None) -> tempfile.SpooledTemporaryFile[bytes]:
    """The whole plaintext, decrypted and checked against its recorded size and SHA-256 before
    any of it is handed out (so a download never delivers a cut or altered file). ``storage``: another
    copy of object storage than the configured one (a restored backup's)."""
    plaintext = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    digest, size = hashlib.sha256(), 0
    try:
        key = base64.b64decode(artifact.file_key)
        with (storage or _storage()).open(artifact.storage_key, "rb") as stored:
            for piece in streams.decrypt(stored.read, key, _ad(artifact)):
                digest.update(piece)
                size += len(piece)
                plaintext.write(piece)
    except (OSError, DecryptionFailed, streams.StreamDecryptionFailed, ValueError) as exc:
        plaintext.close()
        raise ArtifactUnreadable(f"the stored file of {artifact} cannot be read: {exc}") from exc
    if size != artifact.size or digest.hexdigest() != artifact.sha256:
        plaintext.close()
        raise ArtifactUnreadable(f"the stored file of {artifact} is not the file that was stored")
    plaintext.seek(0)
    return plaintext


def delete_stored_object(sender: type[Artifact], instance: Artifact, **kwargs: object) -> None:
    """``post_delete``: the object goes once the deleting transaction commits."""
    key = instance.storage_key
    transaction.on_commit(lambda: _storage().delete(key))


def expired(now: datetime.datetime | None = None) -> models.QuerySet[Artifact]:
    return Artifact.objects.filter(ephemeral=True, expires_at__lte=now or timezone.now())
