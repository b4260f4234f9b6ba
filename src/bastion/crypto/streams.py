"""Encrypting files of any size in a single pass, chunk by chunk, with AES-256-GCM.

``cryptography`` has one-shot AEADs only, and a single GCM message would need the whole file in
memory; so files use the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015, as in
Tink's streaming AEAD): each chunk is its own GCM message whose nonce carries the chunk's number
and a last-chunk flag, so chunks cannot be reordered, dropped or the file cut short unnoticed.

Format: ``b"BEA1" | nonce prefix (7 bytes)`` then chunks, each ``GCM(plaintext chunk) | tag``,
the plaintext chunks ``CHUNK`` bytes long but the last (which may be empty). Nonce of chunk *i*:
``prefix | i (4 bytes, big-endian) | 1 if last else 0``. Associated data of every chunk: the
header followed by the caller's ``ad`` (which names the organisation and the object). Every file
has its own random key, so nonces never repeat under one key.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"BEA1"
PREFIX_BYTES = 7
HEADER_BYTES = len(MAGIC) + PREFIX_BYTES
CHUNK = 64 * 1024
TAG_BYTES = 16


class StreamDecryptionFailed(Exception):
    """The stored file does not decrypt: altered, reordered, truncated, or not ours."""


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    if index >= 2**32:
        raise ValueError("file too large for this format")
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _rechunk(source: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for piece in source:
        buffer += piece
        if len(buffer) >= size:
            start = 0
            with memoryview(buffer) as view:
                while len(buffer) - start >= size:
                    yield bytes(view[start:start + size])
                    start += size
            buffer = buffer[start:]
    yield bytes(buffer)


def encrypt(source: Iterable[bytes], key: bytes, ad: bytes) -> Iterator[bytes]:
    """The encrypted file, piece by piece, for plaintext arriving piece by piece."""
    header = MAGIC + secrets.token_bytes(PREFIX_BYTES)
    aead, prefix, associated = AESGCM(key), header[len(MAGIC):], header + ad
    yield header
    chunks = _rechunk(source, CHUNK)
    current = next(chunks)
    index = 0
    for following in chunks:
        # A full chunk followed only by an empty remainder is still the last one.
        last = not following and next(chunks, None) is None
        yield aead.encrypt(_nonce(prefix, index, last), current, associated)
        if last:
            return
        current, index = following, index + 1
    yield aead.encrypt(_nonce(prefix, index, True), current, associated)


def decrypt(read: Callable[[int], bytes], key: bytes, ad: bytes) -> Iterator[bytes]:
    """The plaintext, chunk by chunk, from ``read(n)`` over the encrypted file. Each chunk is
    authenticated before it is given out; a file cut short fails at its end."""
    header = _read_exactly(read, HEADER_BYTES)
    if len(header) < HEADER_BYTES or not header.startswith(MAGIC):
        raise StreamDecryptionFailed("not an encrypted file")
    aead, prefix, associated = AESGCM(key), header[len(MAGIC):], header + ad
    current = _read_exactly(read, CHUNK + TAG_BYTES)
    index = 0
    while True:
        following = _read_exactly(read, CHUNK + TAG_BYTES)
        last = not following
        try:
            yield aead.decrypt(_nonce(prefix, index, last), current, associated)
        except (InvalidTag, ValueError) as exc:
            raise StreamDecryptionFailed(f"chunk {index} does not decrypt (altered, moved or truncated)") from exc
        if last:
            return
        current, index = following, index + 1


def _read_exactly(read: Callable[[int], bytes], size: int) -> bytes:
    parts, wanted = [], size
    while wanted:
        piece = read(wanted)
        if not piece:
            break
        parts.append(piece)
        wanted -= len(piece)
    return b"".join(parts)


def encrypted_size(plaintext_size: int) -> int:
    chunks = max(1, -(-plaintext_size // CHUNK))
    return HEADER_BYTES + plaintext_size + chunks * TAG_BYTES
