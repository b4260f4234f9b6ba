"""The platform's Ed25519 key that signs checkpoints.

Kept outside the database: ``BASTION_AUDIT_SIGNING_KEY`` (or ``_FILE``: base64 of the 32-byte
private seed), else ``$BASTION_DATA_DIR/keys/audit-signing.ed25519``, made on first use with
mode 0600. A key file readable by group or others is refused. Retired public keys that older
checkpoints were signed with are listed in ``BASTION_AUDIT_PUBLIC_KEYS`` (comma-separated base64)
and, for keys rotated by ``bastion keys rotate --audit-signing``, in
``$BASTION_DATA_DIR/keys/audit-signing-retired.pub`` (one base64 key a line): they stay published
and keep verifying old checkpoints; the retired private key is destroyed. A process notices a
rotation made by another one at its next signature (the key file is re-read when it changes).
"""

from __future__ import annotations

import base64
import functools
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings

from bastion.audit.format import key_id
from bastion.config import ConfigError, check_private_file, env, env_list

KEY_FILE_NAME = "audit-signing.ed25519"
RETIRED_FILE_NAME = "audit-signing-retired.pub"


def _key_path() -> Path:
    return Path(settings.DATA_DIR) / "keys" / KEY_FILE_NAME


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (0600, in a 0700 directory) atomically: a new file renamed over the old."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _create_once(path: Path, text: str) -> None:
    """Create ``path`` with ``text`` unless it exists, never visible half-written: the whole file is
    written under a name of its own, then hard-linked into place (which fails if another thread or
    process got there first; its key is then the key, and ours is discarded)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def _new_seed_text() -> str:
    return base64.b64encode(Ed25519PrivateKey.generate().private_bytes_raw()).decode() + "\n"


def _load_seed() -> bytes:
    configured = env("BASTION_AUDIT_SIGNING_KEY")
    if configured:
        seed = base64.b64decode(configured)
    else:
        path = _key_path()
        if not path.exists():
            _create_once(path, _new_seed_text())
        check_private_file(path)
        seed = base64.b64decode(path.read_text().strip())
    if len(seed) != 32:
        raise ConfigError("the audit signing key must be 32 bytes (base64 of an Ed25519 seed)")
    return seed


def _key_version() -> tuple[object, ...]:
    """What identifies the key in use: the configured value, or the key file's identity and age."""
    configured = env("BASTION_AUDIT_SIGNING_KEY")
    if configured:
        return ("env", configured)
    try:
        status = _key_path().stat()
    except FileNotFoundError:
        return ("file", None)
    return ("file", str(_key_path()), status.st_ino, status.st_mtime_ns)


@functools.lru_cache(maxsize=2)
def _signing_key(version: tuple[object, ...]) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_load_seed())


def signing_key() -> Ed25519PrivateKey:
    version = _key_version()
    key = _signing_key(version)
    if version[1] is None:  # the file was just made: remember it under its real identity
        _signing_key.cache_clear()
        key = _signing_key(_key_version())
    return key


def retired_public_keys() -> list[bytes]:
    path = _key_path().with_name(RETIRED_FILE_NAME)
    if not path.exists():
        return []
    return [base64.b64decode(line) for line in path.read_text().split() if line]


class RotationRefused(Exception):
    """The key is not Bastion's to rotate (it comes from the environment); one line saying what to do."""


def rotate() -> tuple[str, str]:
    """Make a new signing key; the old public key joins the retired ones (still published), the old
    private key is destroyed. Returns (old key id, new key id)."""
    if env("BASTION_AUDIT_SIGNING_KEY"):
        raise RotationRefused("the audit signing key comes from BASTION_AUDIT_SIGNING_KEY: set a new one there and "
                              "add the old public key to BASTION_AUDIT_PUBLIC_KEYS")
    old = signing_key()
    old_public = raw_public(old.public_key())
    retired = _key_path().with_name(RETIRED_FILE_NAME)
    known = retired_public_keys()
    if old_public not in known:
        _write_private(retired, "".join(base64.b64encode(k).decode() + "\n" for k in [*known, old_public]))
    _write_private(_key_path(), _new_seed_text())
    _signing_key.cache_clear()
    return key_id(old_public), current_key_id()


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def current_key_id() -> str:
    return key_id(raw_public(signing_key().public_key()))


def public_keys() -> dict[str, bytes]:
    """Every public key a checkpoint may be signed with: key id → raw 32 bytes."""
    keys = {current_key_id(): raw_public(signing_key().public_key())}
    for raw in [*(base64.b64decode(encoded) for encoded in env_list("BASTION_AUDIT_PUBLIC_KEYS")),
                *retired_public_keys()]:
        keys.setdefault(key_id(raw), raw)
    return keys


def sign(message: bytes) -> str:
    return base64.b64encode(signing_key().sign(message)).decode()
