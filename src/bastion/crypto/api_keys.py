"""API keys: shown once, stored as a keyed hash, recognisable when leaked.

Format: ``bst_<id>_<secret><check>`` — ``id`` 12 base62 characters (public, shown as the
preview), ``secret`` 40 base62 characters (~238 bits), ``check`` a 6-character base62 CRC-32 of
everything before it, so a scanner can tell a real Bastion key from a look-alike without asking
us (as GitHub's token format does). Stored: ``HMAC-SHA-256(pepper, secret)``, the pepper kept
in ``keys/api-key-pepper.key``, never in the database; compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from bastion.crypto import keyfiles
from bastion.db.rls import set_setting

if TYPE_CHECKING:
    from django.db import models

_Row = TypeVar("_Row", bound="models.Model")

ALPHABET = string.digits + string.ascii_letters
PATTERN = re.compile(r"bst_([0-9A-Za-z]{12})_([0-9A-Za-z]{40})([0-9A-Za-z]{6})")


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(ALPHABET[digit])
    return "".join(reversed(digits))


def _random(width: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(width))


def checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), 6)


@dataclass(frozen=True)
class NewKey:
    public_id: str
    token: str
    secret_hash: str


def generate() -> NewKey:
    public_id, secret = _random(12), _random(40)
    body = f"bst_{public_id}_{secret}"
    return NewKey(public_id=public_id, token=body + checksum(body), secret_hash=hash_secret(secret))


def parse(token: str) -> tuple[str, str] | None:
    """(public id, secret) of a well-formed token whose checksum holds, else None."""
    match = PATTERN.fullmatch(token or "")
    if not match or not hmac.compare_digest(checksum(token[:-6]), match.group(3)):
        return None
    return match.group(1), match.group(2)


_peppers: dict[str, bytes] = {}


def _pepper() -> bytes:
    """The pepper, read once per process and data directory (the file is never rewritten; every
    process checks the key directory's modes when it starts)."""
    directory = str(keyfiles.key_directory())
    if directory not in _peppers:
        _peppers[directory] = keyfiles.read_or_create("api-key-pepper.key")
    return _peppers[directory]


def hash_secret(secret: str) -> str:
    return hmac.new(_pepper(), secret.encode(), hashlib.sha256).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def find(presented: str, queryset: models.QuerySet[_Row] | models.Manager[_Row], *, visible_by: str) -> _Row | None:
    """The stored row of a presented token whose secret matches, else None, with the same work
    whether or not the token exists. Row-level security shows the row only while the transaction
    names its public id in the setting ``visible_by`` (no tenant is known yet)."""
    parsed = parse(presented)
    if parsed is None:
        return None
    public_id, secret = parsed
    set_setting(visible_by, public_id)
    row = queryset.filter(public_id=public_id).first()
    set_setting(visible_by, "")
    if row is None:
        hash_secret(secret)  # same work as a real check: no timing difference to probe
        return None
    stored_hash: str = getattr(row, "secret_hash")  # noqa: B009 (every token model has it; Model does not say so)
    return row if secret_matches(secret, stored_hash) else None
