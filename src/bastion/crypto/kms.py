"""Key-encryption keys (KEKs) live in a KMS, never in the database.

``local``: AES-256-GCM KEKs in ``$BASTION_DATA_DIR/keys/kek-v<N>.key`` (0600), versioned so that
rotation can add one without losing the old. Providers ``aws-kms`` and ``vault`` implement the
same two calls. Every unwrap is counted.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from prometheus_client import Counter

from bastion.crypto import keyfiles

UNWRAPS = Counter("bastion_crypto_key_unwraps", "Data keys unwrapped by the KMS", ["provider"])
NONCE_BYTES = 12


class KeyUnavailable(Exception):
    """A wrapped key cannot be unwrapped: wrong KEK, altered, or its KEK is gone."""


@dataclass(frozen=True)
class Wrapped:
    provider: str
    kek_id: str
    blob: bytes


class LocalKMS:
    name = "local"

    def _versions(self) -> list[int]:
        directory = keyfiles.key_directory()
        if not directory.is_dir():
            return []
        return sorted(int(m.group(1)) for p in directory.iterdir() if (m := re.fullmatch(r"kek-v(\d+)\.key", p.name)))

    def current_kek_id(self) -> str:
        versions = self._versions()
        return f"v{versions[-1] if versions else 1}"

    def _kek(self, kek_id: str) -> bytes:
        if not re.fullmatch(r"v\d+", kek_id):
            raise KeyUnavailable(f"unknown KEK {kek_id!r}")
        return keyfiles.read_or_create(f"kek-{kek_id}.key")

    def wrap(self, key: bytes, context: bytes) -> Wrapped:
        kek_id = self.current_kek_id()
        nonce = secrets.token_bytes(NONCE_BYTES)
        return Wrapped(self.name, kek_id, nonce + AESGCM(self._kek(kek_id)).encrypt(nonce, key, context))

    def unwrap(self, wrapped: Wrapped, context: bytes) -> bytes:
        UNWRAPS.labels(self.name).inc()
        try:
            return AESGCM(self._kek(wrapped.kek_id)).decrypt(wrapped.blob[:NONCE_BYTES], wrapped.blob[NONCE_BYTES:], context)
        except InvalidTag as exc:
            raise KeyUnavailable("the wrapped data key does not open under its KEK") from exc

    def new_kek(self) -> str:
        """Rotation: add the next KEK version; older ones stay until nothing is wrapped under them."""
        kek_id = f"v{(self._versions() or [0])[-1] + 1}"
        self._kek(kek_id)
        return kek_id


def provider() -> LocalKMS:
    from django.conf import settings

    name = getattr(settings, "BASTION_KMS", "local")
    if name != "local":
        raise NotImplementedError(f"KMS provider {name!r} is not available in this build")
    return LocalKMS()
