"""The hash an append links (on PostgreSQL computed by the database, on SQLite here, from the body's
canonical bytes cut around ``seq``) is exactly ``format.entry_hash`` of the event's body, for the
values where bytes differ most easily: non-ASCII text, escapes, look-alike keys, and every change of
the number of digits in ``seq``. Runs on both databases."""

from __future__ import annotations

import uuid

from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.audit import chain as audit
from bastion.audit import linking
from bastion.audit.context import Actor
from bastion.audit.format import GENESIS_HASH, entry_hash, event_body_v2
from bastion.audit.models import AuditEvent, ChainHead
from bastion.audit.verification import verify_chain
from bastion.db.rls import set_setting
from tests.audit.db_tampering import forget

from .test_jcs import body_like

TRICKY = [
    {"note": ["", "café ✓ 𝄞 \u2028"], "quote": ['"', "\\"], "controls": "\x00\x01\x1f\t\n"},
    {"a": 1, "seq": 0, "time": "x"},  # the top-level keys' names, nested
    {"text": ',"seq":0,"time":"'},  # the cut's marker inside a string
    {"big": [2**53 - 1, -(2**53) + 1], "emoji": "\U0001f600", "ascii\x7f": None},
]


def test_database_linked_hashes_are_format_entry_hashes(db, settings):
    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 40
    chain_id = str(uuid.uuid4())
    try:
        for i in range(1, 106):  # seq 9 → 10, 99 → 100
            with transaction.atomic():
                set_setting("bastion.org_id", chain_id)
                audit.record("audit.exported", organisation_id=chain_id, resource_type="résumé ✓",
                             resource_id=f"\\{i}\"\u00e9", changes=TRICKY[i % len(TRICKY)],
                             actor=Actor(type="system", id="", label="täst\n\""))
        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            events = list(AuditEvent.objects.filter(chain_id=chain_id).order_by("seq"))
            head = ChainHead.objects.get(chain_id=chain_id)
        prev = GENESIS_HASH
        for expected, event in enumerate(events, 1):
            assert event.seq == expected and event.prev_hash == prev.hex()
            digest = entry_hash(prev, audit.body_of(event))
            assert event.hash == digest.hex(), f"sequence {event.seq}"
            prev = digest
        assert (head.seq, head.hash, head.prev_hash) == (105, events[-1].hash, events[-2].hash)
        report = verify_chain(chain_id)
        assert report.ok and report.events == 105 and report.checkpoints == 2, report.message
    finally:
        forget(chain_id)


texts = st.text(st.characters(codec="utf-8"), max_size=12)


@settings(max_examples=300, deadline=None)
@given(seq=st.one_of(st.integers(1, 2**53 - 1), st.sampled_from([1, 9, 10, 99, 100, 999, 1000, 10**15])),
       prev=st.binary(min_size=32, max_size=32), action=texts, label=texts, time=texts, request_id=texts,
       changes=st.dictionaries(st.text(st.characters(max_codepoint=0x7F), max_size=8), body_like, max_size=4),
       personal=st.dictionaries(texts, texts, max_size=2))
def test_the_cut_around_seq_gives_the_entry_hash(seq, prev, action, label, time, request_id, changes, personal):
    def body(number):
        return event_body_v2(chain=str(uuid.UUID(int=seq)), seq=number, time=time, actor_type="user", actor_id="psn_x",
                             actor_label=label, action=action, resource_type="t", resource_id=label, changes=changes,
                             request_id=request_id, personal=personal)

    before, after = linking.around_seq(body(0))
    assert linking.link_hash(prev, before, seq, after) == entry_hash(prev, body(seq))
