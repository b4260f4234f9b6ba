"""Golden vectors: the audit log's wire format, byte for byte.

Every chain already written and every export a customer keeps depends on these bytes. If a test
here fails, the change breaks them: do not update the vector, add a new format version
(``bastion-audit/2``) that both Bastion and ``bastion-verify`` accept beside this one.
An independent implementation (in any language) can check itself against the same vectors.
"""

from __future__ import annotations

import base64
import datetime
import uuid
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from bastion.audit import format, merkle
from bastion.db.platform import PLATFORM_ID  # the platform chain's id is part of the wire format

CHAIN = "3f2b8c1e-6d4a-4e8b-9c2f-1a7e5d9b0c44"
# A fixed test key: the Ed25519 seed 00 01 02 … 1f. Ed25519 signatures are deterministic.
TEST_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))

EVENT_1 = dict(
    chain=CHAIN, seq=1, time="2026-03-01T09:00:00.000000Z", actor_type="user", actor_id="42",
    actor_label="ada@acme.example", ip="192.0.2.10", user_agent="Mozilla/5.0", action="member.role_changed",
    resource_type="membership", resource_id="7", changes={"role": ["admin", "viewer"]}, request_id="req-1",
)
EVENT_1_BYTES = (
    b'{"action":"member.role_changed","actor":{"id":"42","label":"ada@acme.example","type":"user"},'
    b'"chain":"3f2b8c1e-6d4a-4e8b-9c2f-1a7e5d9b0c44","changes":{"role":["admin","viewer"]},'
    b'"format":"bastion-audit/1","ip":"192.0.2.10","request_id":"req-1","resource":{"id":"7","type":"membership"},'
    b'"seq":1,"time":"2026-03-01T09:00:00.000000Z","user_agent":"Mozilla/5.0"}'
)
EVENT_1_HASH = "3ef110b1a1e59efc0ce6d15ddbdf1e1f7b97713eb285e1de4173ee9f3cea2738"

# Nulls, empty strings, decimals as strings, non-ASCII (2-, 3- and 4-byte UTF-8), nesting.
EVENT_2 = dict(
    chain=CHAIN, seq=2, time="2026-03-01T09:00:01.250000Z", actor_type="system", actor_id="", actor_label="",
    ip=None, user_agent="", action="record.updated", resource_type="emission_record", resource_id="",
    changes={"quantity": ["1200.50", "1300"], "note": ["", "café ✓ 𝄞"], "supplier": [None, {"name": "Zürich AG", "tags": []}]},
    request_id="",
)
EVENT_2_BYTES = (
    b'{"action":"record.updated","actor":{"id":"","label":"","type":"system"},'
    b'"chain":"3f2b8c1e-6d4a-4e8b-9c2f-1a7e5d9b0c44","changes":{"note":["","caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9d\x84\x9e"],'
    b'"quantity":["1200.50","1300"],"supplier":[null,{"name":"Z\xc3\xbcrich AG","tags":[]}]},'
    b'"format":"bastion-audit/1","ip":null,"request_id":"","resource":{"id":"","type":"emission_record"},'
    b'"seq":2,"time":"2026-03-01T09:00:01.250000Z","user_agent":""}'
)
EVENT_2_HASH = "f9cd6ad39374034c86607568176f79f0650b8d445fb287ce5cf960c2d49eb2cc"

# Version 2: people as pseudonyms; their details outside the chain, bound by a salted digest each.
DETAILS_ADA = {"label": "ada@acme.example", "ip": "192.0.2.10", "user_agent": "Mozilla/5.0"}
DETAILS_ADA_BYTES = b'{"ip":"192.0.2.10","label":"ada@acme.example","user_agent":"Mozilla/5.0"}'
SALT_ADA = bytes(range(32))
DIGEST_ADA = "de236499ad593816e36116140e748a67fbbbd040b35ce476722117d54ecb0d5f"
DIGEST_GRACE = "854ef9463640f6ed2e69851ebda4bd1fb05d4a0317b7e68a4f7a9c0dc96ca9ee"  # {"addresses": [grace@…]}, salt 0…0
EVENT_V2 = dict(
    chain=CHAIN, seq=1, time="2026-03-01T09:00:00.000000Z", actor_type="user", actor_id="psn_0123456789abcdef0123",
    actor_label="", action="member.role_changed", resource_type="membership", resource_id="7",
    changes={"role": ["admin", "viewer"], "user": "psn_fedcba9876543210fedc"}, request_id="req-1",
    personal={"psn_0123456789abcdef0123": DIGEST_ADA, "psn_fedcba9876543210fedc": DIGEST_GRACE},
)
EVENT_V2_BYTES = (
    b'{"action":"member.role_changed","actor":{"id":"psn_0123456789abcdef0123","label":"","type":"user"},'
    b'"chain":"3f2b8c1e-6d4a-4e8b-9c2f-1a7e5d9b0c44","changes":{"role":["admin","viewer"],'
    b'"user":"psn_fedcba9876543210fedc"},"format":"bastion-audit/2","personal":{"psn_0123456789abcdef0123":'
    b'"de236499ad593816e36116140e748a67fbbbd040b35ce476722117d54ecb0d5f","psn_fedcba9876543210fedc":'
    b'"854ef9463640f6ed2e69851ebda4bd1fb05d4a0317b7e68a4f7a9c0dc96ca9ee"},"request_id":"req-1",'
    b'"resource":{"id":"7","type":"membership"},"seq":1,"time":"2026-03-01T09:00:00.000000Z"}'
)
EVENT_V2_HASH = "49df4f55e0aaeff4a2199bc735173f8cb788a7fced2ca8a1b9c430ae9fd89815"

TEST_KEY_ID = "56475aa75463474c0285df5dbf2bcab7"
TEST_PUBLIC_KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
ROOT_2 = "1348c01fbe2a231f90926441612c6ea5b2abdc19ac12d2bb0dc066bb782b2cb6"
CHECKPOINT_BYTES = (
    b'{"chain":"3f2b8c1e-6d4a-4e8b-9c2f-1a7e5d9b0c44","format":"bastion-audit-checkpoint/1",'
    b'"key_id":"56475aa75463474c0285df5dbf2bcab7",'
    b'"root_hash":"1348c01fbe2a231f90926441612c6ea5b2abdc19ac12d2bb0dc066bb782b2cb6",'
    b'"time":"2026-03-01T09:01:00.000000Z","tree_size":2}'
)
CHECKPOINT_SIGNATURE = "Tdeb/Xf3xsgr5o3PjHUXWM/jRsRp0t1VuvKPIjgAbHCJBadB/VI1ckycTFW+S0UPr6ZQs9dVwjOltFWhsaJMDQ=="


def test_the_format_versions():
    assert format.FORMAT == format.FORMAT_V2 == "bastion-audit/2"  # what new events are written in
    assert format.FORMAT_V1 == "bastion-audit/1"
    assert format.EVENT_FORMATS == {"bastion-audit/1", "bastion-audit/2"}
    assert format.CHECKPOINT_FORMAT == "bastion-audit-checkpoint/1"
    assert format.EXPORT_FORMAT == "bastion-audit-export/1"
    assert format.GENESIS_HASH == bytes(32)
    assert PLATFORM_ID == "00000000-0000-0000-0000-000000000000"


def test_an_event_has_exact_canonical_bytes_and_hash():
    body = format.event_body(**EVENT_1)
    assert format.canonical(body) == EVENT_1_BYTES
    assert format.entry_hash(format.GENESIS_HASH, body).hex() == EVENT_1_HASH
    import hashlib

    assert hashlib.sha256(bytes(32) + EVENT_1_BYTES).hexdigest() == EVENT_1_HASH  # the documented formula


def test_a_version_2_event_has_exact_canonical_bytes_and_hash():
    import hashlib

    assert format.canonical(DETAILS_ADA) == DETAILS_ADA_BYTES
    assert format.personal_digest(SALT_ADA, DETAILS_ADA) == DIGEST_ADA
    assert hashlib.sha256(SALT_ADA + DETAILS_ADA_BYTES).hexdigest() == DIGEST_ADA  # the documented formula
    assert format.personal_digest(bytes(32), {"addresses": ["grace@acme.example"]}) == DIGEST_GRACE
    body = format.event_body_v2(**EVENT_V2)
    assert format.canonical(body) == EVENT_V2_BYTES
    assert format.entry_hash(format.GENESIS_HASH, body).hex() == EVENT_V2_HASH
    assert hashlib.sha256(bytes(32) + EVENT_V2_BYTES).hexdigest() == EVENT_V2_HASH
    assert b"ada@" not in EVENT_V2_BYTES and b"192.0.2" not in EVENT_V2_BYTES  # no person in the chain


def test_the_next_event_chains_on_the_previous_hash():
    body = format.event_body(**EVENT_2)
    assert format.canonical(body) == EVENT_2_BYTES
    assert format.entry_hash(bytes.fromhex(EVENT_1_HASH), body).hex() == EVENT_2_HASH


def test_a_checkpoint_has_exact_bytes_and_signature_under_the_test_key():
    public = TEST_KEY.public_key().public_bytes_raw()
    assert base64.b64encode(public).decode() == TEST_PUBLIC_KEY
    assert format.key_id(public) == TEST_KEY_ID
    leaves = [bytes.fromhex(EVENT_1_HASH), bytes.fromhex(EVENT_2_HASH)]
    assert merkle.root(leaves).hex() == ROOT_2
    body = format.checkpoint_body(chain=CHAIN, tree_size=2, root_hash=ROOT_2, time="2026-03-01T09:01:00.000000Z",
                                  key_id=TEST_KEY_ID)
    assert format.canonical(body) == CHECKPOINT_BYTES
    assert base64.b64encode(TEST_KEY.sign(CHECKPOINT_BYTES)).decode() == CHECKPOINT_SIGNATURE
    Ed25519PublicKey.from_public_bytes(base64.b64decode(TEST_PUBLIC_KEY)).verify(
        base64.b64decode(CHECKPOINT_SIGNATURE), CHECKPOINT_BYTES)


@pytest.mark.parametrize("value, encoded", [
    ("é", b'"\xc3\xa9"'),                      # non-ASCII as UTF-8, never \u escapes
    ("\u2028", b'"\xe2\x80\xa8"'),             # line separator kept as is
    ("𝄞", b'"\xf0\x9d\x84\x9e"'),              # outside the BMP: 4 bytes of UTF-8
    ('a"b\\c\n\t\x01', b'"a\\"b\\\\c\\n\\t\\u0001"'),  # the short escapes, other controls as \u00XX
    ("", b'""'),
    (None, b"null"),
    (True, b"true"),
    (0, b"0"),
    (9007199254740991, b"9007199254740991"),  # 2**53 - 1, the largest integer allowed
    ("1.10", b'"1.10"'),                        # decimals travel as strings: trailing zeros kept
    ({"b": 1, "a": []}, b'{"a":[],"b":1}'),
    # keys sorted by UTF-16 code units: U+1D11E (surrogates D834 DD1E) before U+FF61
    ({"é": 1, "z": 2, "𝄞": 3, "｡": 4}, b'{"z":2,"\xc3\xa9":1,"\xf0\x9d\x84\x9e":3,"\xef\xbd\xa1":4}'),
    ([[{"x": [None, ""]}]], b'[[{"x":[null,""]}]]'),
])
def test_value_encoding_edge_cases(value, encoded):
    assert format.canonical({"v": value}) == b'{"v":' + encoded + b"}"


def test_integers_beyond_2_53_are_refused():
    with pytest.raises(ValueError):
        format.canonical({"v": 2**53})


def test_values_are_made_json_safe_before_hashing():
    """What the database side stores and hashes for Python values (decimals and floats as text)."""
    from bastion.audit.chain import json_safe

    moment = datetime.datetime(2026, 3, 1, 10, 0, 0, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    value = {
        "decimal": Decimal("1200.50"), "float": 0.1, "date": datetime.date(2026, 3, 1), "moment": moment,
        "uuid": uuid.UUID(CHAIN), "set": {"b", "a"}, "nul": "a\x00b", 3: (1, 2),
    }
    assert format.canonical(json_safe(value)) == (
        b'{"3":[1,2],"date":"2026-03-01","decimal":"1200.50","float":"0.1",'
        b'"moment":"2026-03-01T09:00:00.000005Z","nul":"ab","set":["a","b"],'
        b'"uuid":"3f2b8c1e-6d4a-4e8b-9c2f-1a7e5d9b0c44"}'
    )


def test_times_are_utc_with_microseconds_and_z():
    moment = datetime.datetime(2026, 3, 1, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=1)))
    assert format.format_time(moment) == "2026-03-01T09:00:00.000000Z"
    with pytest.raises(ValueError):
        format.format_time(datetime.datetime(2026, 3, 1))


def test_an_unknown_format_version_is_refused_by_the_offline_verifier():
    """Only the versions in EVENT_FORMATS / CHECKPOINT_FORMATS verify; anything else is named."""
    import json

    from bastion.audit import offline

    body = format.event_body(**EVENT_1) | {"format": "bastion-audit/99"}
    header = {"type": "header", "format": format.EXPORT_FORMAT, "chain": CHAIN, "exported_at": "x",
              "public_keys": [{"key_id": TEST_KEY_ID, "ed25519": TEST_PUBLIC_KEY}]}
    digest = format.entry_hash(format.GENESIS_HASH, body).hex()
    lines = [json.dumps(r) for r in (header, {"type": "event", "body": body, "prev_hash": "00" * 32, "hash": digest},
                                     {"type": "end", "events": 1, "head_hash": digest})]
    result = offline.verify_lines(lines)
    assert not result.ok and result.problems == ["sequence 1: unknown event format 'bastion-audit/99'"]
    assert "bastion-audit/1" in format.EVENT_FORMATS and "bastion-audit-checkpoint/1" in format.CHECKPOINT_FORMATS
