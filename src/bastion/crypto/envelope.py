"""Field-level encryption: AES-256-GCM with the organisation's data key.

Format (base64 of): ``b"BE1" | key version (4 bytes, big-endian) | nonce (12 bytes) | ciphertext | tag``.
``encrypt_bytes`` gives the same bytes without the base64, for a binary column, and ``decrypt``
takes either (base64 costs ~4 ms of a 1 MiB value's ~5 ms).
The associated data binds a value to where it belongs, ``organisation|table|column|row``: a
ciphertext copied to another row, column or organisation does not decrypt. Every failure is the
one error ``DecryptionFailed``, and no partial plaintext is ever returned.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid

from cryptography.exceptions import InvalidTag

from bastion.crypto import keyring, kms

MAGIC = b"BE1"
NONCE_BYTES = 12


class DecryptionFailed(Exception):
    """The value cannot be decrypted here: altered, moved, truncated, or its key is unavailable."""


def associated_data(organisation_id: uuid.UUID | str, table: str, column: str, row_id: object) -> bytes:
    return f"{organisation_id}|{table}|{column}|{row_id}".encode()


def encrypt_bytes(plaintext: bytes, *, organisation_id: uuid.UUID | str, ad: bytes) -> bytes:
    """The sealed value as raw bytes (for a binary column)."""
    version, cipher = keyring.current_cipher(organisation_id)
    nonce = secrets.token_bytes(NONCE_BYTES)
    return MAGIC + version.to_bytes(4, "big") + nonce + cipher.encrypt(nonce, plaintext, ad)


def encrypt(plaintext: bytes, *, organisation_id: uuid.UUID | str, ad: bytes) -> str:
    return base64.b64encode(encrypt_bytes(plaintext, organisation_id=organisation_id, ad=ad)).decode()


def key_version_of(token: str | bytes) -> int:
    raw = _decode(token)
    return int.from_bytes(raw[3:7], "big")


def _decode(token: str | bytes | memoryview) -> bytes | memoryview:
    if not isinstance(token, str):  # raw bytes from a binary column
        view = token if isinstance(token, memoryview) else memoryview(token)
        if len(view) < len(MAGIC) + 4 + NONCE_BYTES + 16 or view[:3] != MAGIC:
            raise DecryptionFailed("not an encrypted value")
        return view
    try:
        # strict_mode validates in C what b64decode(validate=True) checks with a regular expression
        raw = binascii.a2b_base64(token, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionFailed("not an encrypted value") from exc
    if len(raw) < len(MAGIC) + 4 + NONCE_BYTES + 16 or not raw.startswith(MAGIC):
        raise DecryptionFailed("not an encrypted value")
    return raw


def decrypt(token: str | bytes | memoryview, *, organisation_id: uuid.UUID | str, ad: bytes) -> bytes:
    """The plaintext of a sealed value, given as base64 text (``encrypt``) or raw bytes (``encrypt_bytes``)."""
    raw = _decode(token)
    version = int.from_bytes(raw[3:7], "big")
    view = memoryview(raw)  # no copy of a large body
    nonce, body = view[7 : 7 + NONCE_BYTES], view[7 + NONCE_BYTES :]
    try:
        return keyring.version_cipher(organisation_id, version).decrypt(nonce, body, ad)
    except (InvalidTag, kms.KeyUnavailable) as exc:
        raise DecryptionFailed("the value does not decrypt here (altered, moved, or its key is gone)") from exc
