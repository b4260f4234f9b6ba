"""Keys of backups. Every backup file has its own random key, wrapped by the KMS provider under a
key-encryption key of its own (owner ``BACKUP_KEK_OWNER``); only the wrapped key travels with the
backup. The KEK lives where the organisations' KEKs live (key files outside the database, or AWS
KMS), and those are never inside a backup: whoever holds a backup without the keys holds ciphertext.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

from bastion.crypto import kms

# Not an organisation: the backups' own KEK, so destroying an organisation's KEK never touches it.
BACKUP_KEK_OWNER = "00000000-0000-0000-0000-00000000bac0"
# Anonymised copies (``bastion anonymise``) are wrapped under a KEK of their own: staging and
# development are given this one key (its file ``keys/orgs/<owner>-v1.key``, or its KMS alias) and can
# open those copies, never a production backup nor anything else production encrypts.
ANONYMISED_KEK_OWNER = "00000000-0000-0000-0000-0000000a0a0a"


class BackupKeyUnavailable(Exception):
    pass


def _context(backup_id: str) -> bytes:
    return f"bastion-backup|{backup_id}".encode()


def new_file_key(backup_id: str, *, owner: str = BACKUP_KEK_OWNER) -> tuple[bytes, dict]:
    """A fresh key for one backup file, and its wrapped form for the manifest."""
    key = secrets.token_bytes(32)
    wrapped = kms.provider().wrap(key, _context(backup_id), owner=owner)
    return key, {"provider": wrapped.provider, "kek_id": wrapped.kek_id,
                 "blob": base64.b64encode(wrapped.blob).decode()}


def open_file_key(backup_id: str, wrapped: dict) -> bytes:
    try:
        blob = kms.Wrapped(wrapped["provider"], wrapped["kek_id"], base64.b64decode(wrapped["blob"]))
        return kms.provider_for(blob.provider).unwrap(blob, _context(backup_id))
    except (KeyError, ValueError, TypeError, kms.KeyUnavailable) as exc:
        raise BackupKeyUnavailable(f"the key of backup {backup_id} cannot be opened: {exc}") from exc


def pgbackrest_passphrase(path: Path | str) -> str:
    """pgBackRest's repository passphrase, kept on disk only wrapped by the KMS provider (``path``,
    0600); made on first use. It is written in clear only into pgBackRest's own configuration file
    (0640, owned by postgres), which pgBackRest needs to read."""
    path = Path(path)
    context = b"bastion-pgbackrest-passphrase"
    if not path.exists():
        passphrase = base64.urlsafe_b64encode(secrets.token_bytes(48)).decode()
        wrapped = kms.provider().wrap(passphrase.encode(), context, owner=BACKUP_KEK_OWNER)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump({"provider": wrapped.provider, "kek_id": wrapped.kek_id,
                       "blob": base64.b64encode(wrapped.blob).decode()}, handle)
    stored = json.loads(path.read_text())
    try:
        blob = kms.Wrapped(stored["provider"], stored["kek_id"], base64.b64decode(stored["blob"]))
        return kms.provider_for(blob.provider).unwrap(blob, context).decode()
    except (KeyError, ValueError, TypeError, kms.KeyUnavailable) as exc:
        raise BackupKeyUnavailable(f"pgBackRest's passphrase cannot be opened: {exc}") from exc
