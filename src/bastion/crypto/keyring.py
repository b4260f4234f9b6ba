"""Each organisation's AES-256 data keys: created on first use, wrapped by the KMS, unwrapped on
demand and kept unwrapped in memory only briefly (``BASTION_DATA_KEY_CACHE_SECONDS``, bounded in
size), so a KMS outage or a revoked KEK takes effect within that time."""

from __future__ import annotations

import functools
import secrets
import threading
import time
import uuid
from collections import OrderedDict

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.db import IntegrityError, transaction

from bastion.crypto import customer_kms, kms
from bastion.crypto.key_models import CustomerKey, DataKey, IndexKey

# (expiry, key, its AES-GCM cipher made once: a cipher's key schedule costs more than a 64-byte field's decryption)
_cache: OrderedDict[tuple[str, int], tuple[float, bytes, AESGCM | None]] = OrderedDict()
_clock = time.monotonic  # what bounds a cached key's life; tests move it on
_lock = threading.Lock()
MAX_CACHED = 1024


INDEX_KEY_SLOT = -1  # cache slot of the blind-index key; 0 holds which data key version is newest


def wrap_context(organisation_id: str, version: int) -> bytes:
    return f"bastion-data-key|{organisation_id}|{version}".encode()


def index_wrap_context(organisation_id: str) -> bytes:
    return f"bastion-index-key|{organisation_id}".encode()


def _entry(key: tuple[str, int]) -> tuple[float, bytes, AESGCM | None] | None:
    with _lock:
        entry = _cache.get(key)
        if entry is None or entry[0] < _clock():
            _cache.pop(key, None)
            return None
        return entry


def _cached(key: tuple[str, int]) -> bytes | None:
    entry = _entry(key)
    return None if entry is None else entry[1]


def _remember(key: tuple[str, int], material: bytes) -> None:
    cipher = AESGCM(material) if key[1] > 0 and len(material) == 32 else None  # data keys only
    with _lock:
        _cache[key] = (_clock() + settings.BASTION_DATA_KEY_CACHE_SECONDS, material, cipher)
        _cache.move_to_end(key)
        while len(_cache) > MAX_CACHED:
            _cache.popitem(last=False)


def forget_cached(organisation_id: str | None = None) -> None:
    with _lock:
        for key in [k for k in _cache if organisation_id is None or k[0] == organisation_id]:
            del _cache[key]


def _customer_key(organisation_id: str) -> CustomerKey | None:
    return CustomerKey.objects.filter(organisation_id=organisation_id).exclude(key_arn="").first()


def organisation_provider(organisation_id: str) -> kms.Provider:
    """What wraps this organisation's keys: its own key when it brought one (BYOK), else ``BASTION_KMS``."""
    key = _customer_key(organisation_id)
    return customer_kms.CustomerAwsKMS.for_key(key) if key is not None else kms.provider()


def _unwrapping_provider(row: DataKey | IndexKey) -> kms.Provider:
    if row.provider != customer_kms.NAME:
        return kms.provider_for(row.provider)
    key = CustomerKey.objects.filter(organisation_id=row.organisation_id).first()
    if key is None:
        raise customer_kms.CustomerKeyUnavailable("the organisation's customer key settings are gone")
    return customer_kms.CustomerAwsKMS.for_key(key)


def _open(row: DataKey | IndexKey, context: bytes, slot: tuple[str, int]) -> bytes:
    """Unwrap a stored key with the provider that wrapped it, and keep it for a while."""
    material = _unwrapping_provider(row).unwrap(kms.Wrapped(row.provider, row.kek_id, bytes(row.wrapped)), context)
    _remember(slot, material)
    return material


def _unwrap(row: DataKey) -> bytes:
    organisation_id = str(row.organisation_id)
    return _open(row, wrap_context(organisation_id, row.version), (organisation_id, row.version))


def rewrap(row: DataKey | IndexKey, material: bytes, context: bytes, provider: kms.Provider) -> None:
    """Store ``row``'s key wrapped anew by ``provider`` (its newest KEK): rotation, or a move of KMS."""
    wrapped = provider.wrap(material, context, owner=str(row.organisation_id))
    row.provider, row.kek_id, row.wrapped = wrapped.provider, wrapped.kek_id, wrapped.blob
    row.save(update_fields=["provider", "kek_id", "wrapped"])


def create_version(organisation_id: uuid.UUID | str) -> DataKey:
    """A new data key version for the organisation (its first, or by rotation)."""
    organisation_id = str(organisation_id)
    latest = DataKey.objects.filter(organisation_id=organisation_id).order_by("-version").first()
    version = (latest.version + 1) if latest else 1
    material = secrets.token_bytes(32)
    wrapped = organisation_provider(organisation_id).wrap(material, wrap_context(organisation_id, version),
                                                          owner=organisation_id)
    row = DataKey.objects.create(organisation_id=organisation_id, version=version, provider=wrapped.provider,
                                 kek_id=wrapped.kek_id, wrapped=wrapped.blob)
    _remember((organisation_id, version), material)
    return row


def current(organisation_id: uuid.UUID | str) -> tuple[int, bytes]:
    """(version, key) to encrypt with: the organisation's newest data key, made on first use.

    Which version is newest is cached like the key itself: after a rotation, other processes
    move to the new version within ``BASTION_DATA_KEY_CACHE_SECONDS`` (older versions stay
    readable until retired, so nothing is lost meanwhile)."""
    organisation_id = str(organisation_id)
    newest = _cached((organisation_id, 0))
    if newest is not None:
        number = int.from_bytes(newest, "big")
        cached = _cached((organisation_id, number))
        if cached is not None:
            return number, cached
    row = DataKey.objects.filter(organisation_id=organisation_id, retired_at__isnull=True).order_by("-version").first()
    if row is None:
        try:
            with transaction.atomic():
                row = create_version(organisation_id)
        except IntegrityError:  # another request made version 1 first
            row = DataKey.objects.filter(organisation_id=organisation_id).latest("version")
    _remember((organisation_id, 0), row.version.to_bytes(4, "big"))  # slot 0: which version is newest
    return row.version, _cached((organisation_id, row.version)) or _unwrap(row)


def _cipher(organisation_id: str, number: int, material: bytes) -> AESGCM:
    entry = _entry((organisation_id, number))
    return entry[2] if entry is not None and entry[2] is not None else AESGCM(material)


def current_cipher(organisation_id: uuid.UUID | str) -> tuple[int, AESGCM]:
    """``current``'s version and key as a ready AES-GCM cipher (made once per cached key)."""
    organisation_id = _text_of(organisation_id)
    number, material = current(organisation_id)
    return number, _cipher(organisation_id, number, material)


_id_texts: dict[uuid.UUID, str] = {}


def _text_of(organisation_id: uuid.UUID | str) -> str:
    """``str(organisation_id)``, remembered: a UUID's text costs as much as a small field's decryption."""
    if isinstance(organisation_id, str):
        return organisation_id
    text = _id_texts.get(organisation_id)
    if text is None:
        if len(_id_texts) >= MAX_CACHED:
            _id_texts.clear()
        text = _id_texts[organisation_id] = str(organisation_id)
    return text


def version_cipher(organisation_id: uuid.UUID | str, number: int) -> AESGCM:
    """``version``'s key as a ready AES-GCM cipher, with the same expiry, shredding and errors."""
    organisation_id = _text_of(organisation_id)
    # The common case, without the lock: one dict read (atomic) and the expiry check. Expired or
    # forgotten (rotation, shredding, a customer key's revocation) → the locked path below.
    entry = _cache.get((organisation_id, number))
    if entry is not None and entry[2] is not None and entry[0] >= _clock():
        return entry[2]
    return _cipher(organisation_id, number, version(organisation_id, number))


def version(organisation_id: uuid.UUID | str, number: int) -> bytes:
    """The key of a given version, to decrypt with."""
    organisation_id = str(organisation_id)
    cached = _cached((organisation_id, number))
    if cached is not None:
        return cached
    row = DataKey.objects.filter(organisation_id=organisation_id, version=number).first()
    if row is None:
        raise kms.KeyUnavailable(f"no data key version {number} for this organisation")
    return _unwrap(row)


def index_key(organisation_id: uuid.UUID | str) -> bytes:
    """The organisation's blind-index key, made on first use."""
    organisation_id = str(organisation_id)
    cached = _cached((organisation_id, INDEX_KEY_SLOT))
    if cached is not None:
        return cached
    row = IndexKey.objects.filter(organisation_id=organisation_id).first()
    if row is None:
        material = secrets.token_bytes(32)
        wrapped = organisation_provider(organisation_id).wrap(material, index_wrap_context(organisation_id),
                                                              owner=organisation_id)
        try:
            with transaction.atomic():
                IndexKey.objects.create(organisation_id=organisation_id, provider=wrapped.provider,
                                        kek_id=wrapped.kek_id, wrapped=wrapped.blob)
        except IntegrityError:  # another request made it first: use theirs
            row = IndexKey.objects.get(organisation_id=organisation_id)
        else:
            _remember((organisation_id, INDEX_KEY_SLOT), material)
            return material
    return _open(row, index_wrap_context(organisation_id), (organisation_id, INDEX_KEY_SLOT))


def shred(organisation_id: uuid.UUID | str) -> int:
    """Delete the organisation's data keys now, and destroy its KEK once this transaction commits:
    after that no copy of its ciphertexts — in the database or in any backup — can be opened."""
    organisation_id = str(organisation_id)
    # Every provider that may hold one of its KEKs: the configured one, the ones its keys name now,
    # and local (an installation moved to another KMS keeps its old local KEKs for old backups).
    providers = {settings.BASTION_KMS, "local"}
    providers |= set(DataKey.objects.filter(organisation_id=organisation_id).values_list("provider", flat=True))
    providers |= set(IndexKey.objects.filter(organisation_id=organisation_id).values_list("provider", flat=True))
    # A customer's own key is theirs: its wrapped keys are deleted here, the key itself is never touched.
    providers.discard(customer_kms.NAME)
    deleted, _ = DataKey.objects.filter(organisation_id=organisation_id).delete()
    IndexKey.objects.filter(organisation_id=organisation_id).delete()
    CustomerKey.objects.filter(organisation_id=organisation_id).delete()
    forget_cached(organisation_id)

    def destroy_kek(name: str) -> None:
        kms.provider_for(name).destroy(organisation_id)

    for name in sorted(providers):
        transaction.on_commit(functools.partial(destroy_kek, name))
    return deleted
