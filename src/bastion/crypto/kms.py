"""Key-encryption keys (KEKs) live in a KMS, never in the database.

Each organisation has its own KEK, versioned, which wraps that organisation's data keys. Keeping
it outside the database is what makes crypto-shredding real: destroying an organisation's KEK
leaves its ciphertexts unreadable in the database *and in every backup of it*.

``local``: AES-256-GCM KEKs in ``$BASTION_DATA_DIR/keys/orgs/<organisation>-v<N>.key`` (0600).
Every unwrap is counted.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from prometheus_client import Counter

from bastion.crypto import keyfiles

UNWRAPS = Counter("bastion_crypto_key_unwraps", "Data keys unwrapped by the KMS", ["provider"])
NONCE_BYTES = 12
_OWNER = re.compile(r"[0-9a-f-]{36}")


class KeyUnavailable(Exception):
    """A wrapped key cannot be unwrapped: wrong KEK, altered, or its KEK was destroyed."""


@dataclass(frozen=True)
class Wrapped:
    provider: str
    kek_id: str
    blob: bytes


class LocalKMS:
    name = "local"

    def _directory(self) -> Path:
        return keyfiles.key_directory() / "orgs"

    def _versions(self, owner: str) -> list[int]:
        directory = self._directory()
        if not directory.is_dir():
            return []
        pattern = re.compile(rf"{re.escape(owner)}-v(\d+)\.key")
        return sorted(int(m.group(1)) for p in directory.iterdir() if (m := pattern.fullmatch(p.name)))

    def current_kek_id(self, owner: str) -> str:
        versions = self._versions(owner)
        return f"{owner}/v{versions[-1] if versions else 1}"

    def _kek(self, kek_id: str, *, create: bool) -> bytes:
        owner, _, version = kek_id.partition("/")
        if not _OWNER.fullmatch(owner) or not re.fullmatch(r"v\d+", version):
            raise KeyUnavailable(f"unknown KEK {kek_id!r}")
        name = f"orgs/{owner}-{version}.key"
        if not create and not (keyfiles.key_directory() / name).exists():
            raise KeyUnavailable(f"the KEK {kek_id} does not exist (destroyed, or never made here)")
        return keyfiles.read_or_create(name)

    def wrap(self, key: bytes, context: bytes, *, owner: str) -> Wrapped:
        kek_id = self.current_kek_id(owner)
        nonce = secrets.token_bytes(NONCE_BYTES)
        return Wrapped(self.name, kek_id, nonce + AESGCM(self._kek(kek_id, create=True)).encrypt(nonce, key, context))

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        UNWRAPS.labels(self.name).inc()
        try:
            kek = self._kek(wrapped.kek_id, create=False)
            return AESGCM(kek).decrypt(wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:], context)
        except InvalidTag as exc:
            raise KeyUnavailable("the wrapped data key does not open under its KEK") from exc

    def new_kek(self, owner: str) -> str:
        """Rotation: the owner's next KEK version; older ones stay until nothing is wrapped under them."""
        kek_id = f"{owner}/v{(self._versions(owner) or [0])[-1] + 1}"
        self._kek(kek_id, create=True)
        return kek_id

    def destroy(self, owner: str) -> int:
        """Crypto-shredding: overwrite and remove every KEK version of ``owner``. Irreversible."""
        destroyed = 0
        for version in self._versions(owner):
            path = self._directory() / f"{owner}-v{version}.key"
            with open(path, "r+b") as handle:
                handle.write(secrets.token_bytes(path.stat().st_size))
                handle.flush()
                os.fsync(handle.fileno())
            path.unlink()
            destroyed += 1
        return destroyed


def provider() -> LocalKMS:
    return LocalKMS()
