"""Canonical JSON (RFC 8785) and Ed25519 signatures with the platform key (``audit.signing``)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import rfc8785

from bastion.audit import signing


def canonical(value: Any) -> bytes:
    return rfc8785.dumps(value)


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def sign(value: Any) -> tuple[str, str]:
    """(key id, base64 signature) over the canonical JSON of ``value``."""
    return signing.current_key_id(), signing.sign(canonical(value))


def public_key() -> tuple[str, str]:
    """(key id, base64 of the raw 32-byte Ed25519 public key)."""
    return signing.current_key_id(), base64.b64encode(signing.raw_public(signing.signing_key().public_key())).decode()
