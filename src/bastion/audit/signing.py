"""The platform's Ed25519 key that signs checkpoints.

Kept outside the database: ``BASTION_AUDIT_SIGNING_KEY`` (or ``_FILE``: base64 of the 32-byte
private seed), else ``$BASTION_DATA_DIR/keys/audit-signing.ed25519``, made on first use with
mode 0600. A key file readable by group or others is refused. Retired public keys that older
checkpoints were signed with are listed in ``BASTION_AUDIT_PUBLIC_KEYS`` (comma-separated base64).
"""

from __future__ import annotations

import base64
import functools
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from bastion.audit.format import key_id
from bastion.config import ConfigError, check_private_file, env, env_list

KEY_FILE_NAME = "audit-signing.ed25519"


def _key_path() -> Path:
    return Path(settings.DATA_DIR) / "keys" / KEY_FILE_NAME


def _load_seed() -> bytes:
    configured = env("BASTION_AUDIT_SIGNING_KEY")
    if configured:
        seed = base64.b64decode(configured)
    else:
        path = _key_path()
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode() + "\n")
        check_private_file(path)
        seed = base64.b64decode(path.read_text().strip())
    if len(seed) != 32:
        raise ConfigError("the audit signing key must be 32 bytes (base64 of an Ed25519 seed)")
    return seed


@functools.cache
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_load_seed())


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def current_key_id() -> str:
    return key_id(raw_public(signing_key().public_key()))


def public_keys() -> dict[str, bytes]:
    """Every public key a checkpoint may be signed with: key id → raw 32 bytes."""
    keys = {current_key_id(): raw_public(signing_key().public_key())}
    for encoded in env_list("BASTION_AUDIT_PUBLIC_KEYS"):
        raw = base64.b64decode(encoded)
        keys[key_id(raw)] = raw
    return keys


def sign(message: bytes) -> str:
    return base64.b64encode(signing_key().sign(message)).decode()
