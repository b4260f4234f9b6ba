"""Sealed values as raw bytes (for a binary column, no base64): the same envelope, the same checks."""

from __future__ import annotations

import base64
import os

import pytest

from bastion.crypto import envelope
from bastion.tenancy import context


def _ad(organisation_id, row="r1"):
    return envelope.associated_data(organisation_id, "records_evidence", "body", row)


def test_raw_bytes_are_the_base64_texts_envelope_and_open_the_same(world):
    acme = world.acme.organisation
    body = os.urandom(1 << 20)
    with context.tenant_context(acme.id):
        sealed = envelope.encrypt_bytes(body, organisation_id=acme.id, ad=_ad(acme.id))
        assert sealed.startswith(envelope.MAGIC) and body not in sealed
        assert envelope.decrypt(sealed, organisation_id=acme.id, ad=_ad(acme.id)) == body
        assert envelope.decrypt(memoryview(sealed), organisation_id=acme.id, ad=_ad(acme.id)) == body
        text = base64.b64encode(sealed).decode()  # what a text column holds for the same value
        assert envelope.decrypt(text, organisation_id=acme.id, ad=_ad(acme.id)) == body
        assert envelope.key_version_of(sealed) == envelope.key_version_of(text)


@pytest.mark.parametrize("where", [0, 3, 7, 19, -1])
def test_an_altered_byte_a_moved_value_or_a_short_one_fails_with_the_one_error(world, where):
    acme, globex = world.acme.organisation, world.globex.organisation
    with context.tenant_context(acme.id):
        sealed = bytearray(envelope.encrypt_bytes(b"pat@example.com", organisation_id=acme.id, ad=_ad(acme.id)))
        sealed[where] ^= 0x01
        with pytest.raises(envelope.DecryptionFailed):
            envelope.decrypt(bytes(sealed), organisation_id=acme.id, ad=_ad(acme.id))
        good = envelope.encrypt_bytes(b"pat@example.com", organisation_id=acme.id, ad=_ad(acme.id))
        with pytest.raises(envelope.DecryptionFailed):  # another row
            envelope.decrypt(good, organisation_id=acme.id, ad=_ad(acme.id, row="r2"))
        with pytest.raises(envelope.DecryptionFailed):  # truncated
            envelope.decrypt(good[:30], organisation_id=acme.id, ad=_ad(acme.id))
    with context.tenant_context(globex.id), pytest.raises(envelope.DecryptionFailed):  # the outsider
        envelope.decrypt(good, organisation_id=globex.id, ad=_ad(acme.id))
