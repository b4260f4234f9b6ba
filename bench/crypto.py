"""Field and file encryption, blind indexes and API-key verification, each against raw primitives in the same run.

    uv run python bench/crypto.py [--short]                               # SQLite
    eval "$(scripts/postgres-setup)" && uv run python bench/crypto.py     # PostgreSQL

1. Field encrypt/decrypt of a 64-byte value (latency) and of 1 MiB values (MB/s) through
   ``envelope`` (key lookup in the bounded cache, version header, associated data, base64) vs
   ``AESGCM`` on the same key and bytes; decrypt again from raw bytes (``encrypt_bytes``, what a
   binary column holds: no base64).
2. Files (encrypted artifacts): 16 MiB through the streaming format, 64 KiB chunks, vs one
   ``AESGCM`` call over the whole buffer; and a blind-index digest vs a bare HMAC-SHA-256.
3. API-key verifications per second (parse, checksum, database lookup under row-level security,
   HMAC, constant-time compare) vs a bare HMAC-SHA-256 of the secret. With ``REDIS_URL`` set, a
   key verified once is verified from the shared cache (one round trip; see crypto/api_key_cache.py).
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import io
import os

from _setup import per_call, setup_database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--short", action="store_true", help="a few calls of each, only to prove the bench still runs")
    args = parser.parse_args()
    n = (lambda count: max(1, count // 1000)) if args.short else (lambda count: count)
    setup_database()
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from bastion.crypto import api_key_auth, api_keys, blind_index, envelope, keyring, streams
    from bastion.tenancy import actions, context
    from bastion.tenancy.api_keys import create as create_key
    from bastion.tenancy.models import Membership

    owner = get_user_model().objects.create_user(email="bench@example.com", password="x" * 20)
    organisation = actions.create_organisation(name="Bench", slug="bench", owner=owner)
    ad = envelope.associated_data(organisation.id, "records_supplier", "contact_email", organisation.id)
    small, large = os.urandom(64), os.urandom(1 << 20)
    print(f"database: {connection.vendor}")
    with context.tenant_context(organisation.id):
        version, key = keyring.current(organisation.id)
        aes = AESGCM(key)
        nonce = os.urandom(12)
        token_small = envelope.encrypt(small, organisation_id=organisation.id, ad=ad)
        token_large = envelope.encrypt(large, organisation_id=organisation.id, ad=ad)
        raw_small, raw_large = aes.encrypt(nonce, small, ad), aes.encrypt(nonce, large, ad)
        sealed_small = envelope.encrypt_bytes(small, organisation_id=organisation.id, ad=ad)  # a binary column's
        sealed_large = envelope.encrypt_bytes(large, organisation_id=organisation.id, ad=ad)
        rows = [
            ("encrypt 64 B", lambda: envelope.encrypt(small, organisation_id=organisation.id, ad=ad),
             lambda: aes.encrypt(os.urandom(12), small, ad), n(20000), 64),
            ("decrypt 64 B", lambda: envelope.decrypt(token_small, organisation_id=organisation.id, ad=ad),
             lambda: aes.decrypt(nonce, raw_small, ad), n(20000), 64),
            ("encrypt 1 MiB", lambda: envelope.encrypt(large, organisation_id=organisation.id, ad=ad),
             lambda: aes.encrypt(os.urandom(12), large, ad), n(30), 1 << 20),
            ("decrypt 1 MiB", lambda: envelope.decrypt(token_large, organisation_id=organisation.id, ad=ad),
             lambda: aes.decrypt(nonce, raw_large, ad), n(30), 1 << 20),
            ("decrypt 64 B bytes", lambda: envelope.decrypt(sealed_small, organisation_id=organisation.id, ad=ad),
             lambda: aes.decrypt(nonce, raw_small, ad), n(20000), 64),
            ("decrypt 1 MiB bytes", lambda: envelope.decrypt(sealed_large, organisation_id=organisation.id, ad=ad),
             lambda: aes.decrypt(nonce, raw_large, ad), n(30), 1 << 20),
        ]
        for label, ours, raw, repeat, size in rows:
            mine, base = per_call(ours, repeat), per_call(raw, repeat)
            print(f"{label:19} envelope {mine * 1e6:9.2f} µs ({size / mine / 1e6:8.1f} MB/s)   raw AESGCM "
                  f"{base * 1e6:9.2f} µs ({size / base / 1e6:8.1f} MB/s)   ratio {mine / base:6.2f}")

        file_key, big = os.urandom(32), os.urandom((1 if args.short else 16) << 20)
        file_ad = b"bastion-artifact|bench"
        sealed_file = b"".join(streams.encrypt([big], file_key, file_ad))

        pieces = [big[i:i + (64 << 10)] for i in range(0, len(big), 64 << 10)]  # as uploads arrive

        def stream_encrypt():
            for _ in streams.encrypt(pieces, file_key, file_ad):
                pass

        def stream_decrypt():
            for _ in streams.decrypt(io.BytesIO(sealed_file).read, file_key, file_ad):
                pass

        file_aes = AESGCM(file_key)
        raw_file = file_aes.encrypt(nonce, big, file_ad)
        for label, ours, raw in [
            ("file encrypt", stream_encrypt,
             lambda: file_aes.encrypt(os.urandom(12), big, file_ad)),
            ("file decrypt", stream_decrypt, lambda: file_aes.decrypt(nonce, raw_file, file_ad)),
        ]:
            mine, base = per_call(ours, n(3)), per_call(raw, n(3))
            print(f"{label:14} streams  {len(big) / mine / 1e6:8.1f} MB/s   one-shot AESGCM "
                  f"{len(big) / base / 1e6:8.1f} MB/s   ratio {mine / base:6.2f}")
        index_key = keyring.index_key(organisation.id)
        mine = per_call(lambda: blind_index.digest(organisation.id, "records_supplier", "contact_email",
                                                   "pat@example.com"), n(20000))
        base = per_call(lambda: hmac.new(index_key, b"records_supplier|contact_email|pat@example.com",
                                         hashlib.sha256).hexdigest(), n(20000))
        print(f"blind index    {mine * 1e6:9.2f} µs   bare HMAC {base * 1e6:9.2f} µs   ratio {mine / base:6.2f}")

        _, token = create_key(organisation, name="bench", scopes=["records.view"], expires_in_days=1, creator=owner,
                              creator_grants=list(Membership.objects.filter(user=owner)))
    secret = token[17:57].encode()
    pepper = os.urandom(32)

    def verify():
        with transaction.atomic():
            assert api_key_auth.authenticate(token) is not None

    mine = per_call(verify, n(2000))
    base = per_call(lambda: hmac.new(pepper, secret, hashlib.sha256).digest(), n(20000))
    print(f"API-key verify  {1 / mine:10.0f} /s   bare HMAC-SHA-256 {1 / base:10.0f} /s   ratio {base / mine:.4f}"
          f"   (bounded by one indexed row lookup: parse {api_keys.parse(token) is not None})")
    from bastion.crypto import api_key_cache

    if api_key_cache.enabled():  # the floor of the cached path: one bare round trip to the same Redis
        from django.core.cache import caches

        client = caches["default"]._cache.get_client()
        floor = per_call(lambda: client.mget(["bench:a", "bench:b"]), n(2000))
        print(f"  (Redis cache: bare MGET round trip {1 / floor:10.0f} /s; verify / MGET ratio {floor / mine:.2f})")


if __name__ == "__main__":
    main()
