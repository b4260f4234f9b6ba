"""``audit verify`` finds every kind of tampering with a stored chain, at the right sequence number."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bastion.audit.verification import verify_chain
from tests.audit.db_tampering import forget, make_chain, tamper

T = "audit_auditevent"


@pytest.fixture
def chain(db):
    chain_id = make_chain(12)
    yield chain_id
    forget(chain_id)


def _first_bad(chain_id: str) -> int | None:
    report = verify_chain(chain_id)
    assert report.ok == (report.first_bad_seq is None)
    return report.first_bad_seq


def test_an_intact_chain_verifies(chain):
    report = verify_chain(chain)
    assert report.ok and report.events == 12


@pytest.mark.parametrize(
    "column, value",
    [
        ("action", "'member.removed'"),
        ("actor_label", "'someone else'"),
        ("format", "'bastion-audit/1'"),  # read as version 1, its body is another
        ("personal", "'{}'"),  # the digests of the personal details kept outside the chain
        ("resource_id", "'999'"),
        ("request_id", "'forged'"),
        ("occurred_at", "occurred_at"),  # replaced below by a shifted time
        ("changes", "'{\"i\": 5, \"note\": \"rewritten\"}'"),
    ],
)
def test_editing_any_field_of_a_past_event_is_found(chain, column, value):
    if column == "occurred_at":
        tamper(f"UPDATE {T} SET occurred_at = %s WHERE chain_id = %s AND seq = 5",
               ("2020-01-01 00:00:00+00:00", chain))
    else:
        tamper(f"UPDATE {T} SET {column} = {value} WHERE chain_id = %s AND seq = 5", (chain,))
    assert _first_bad(chain) == 5


def test_editing_the_personal_details_kept_outside_the_chain_is_found(chain):
    # Event 5 (i = 4) names person4@…; the details are outside the chain but bound by its digest.
    tamper("UPDATE audit_personaldetails SET details = %s WHERE chain_id = %s AND seq = 5",
           ('{"addresses": ["someone.else@tampering.example"]}', chain))
    report = verify_chain(chain)
    assert report.first_bad_seq == 5 and "personal details" in report.message


def test_erased_personal_details_leave_the_chain_verifying(chain):
    tamper("DELETE FROM audit_personaldetails WHERE chain_id = %s AND seq = 5", (chain,))
    assert verify_chain(chain).ok


def test_deleting_an_event_is_found(chain):
    tamper(f"DELETE FROM {T} WHERE chain_id = %s AND seq = 7", (chain,))
    assert _first_bad(chain) == 7


def test_deleting_the_newest_events_is_found(chain):
    tamper(f"DELETE FROM {T} WHERE chain_id = %s AND seq >= 11", (chain,))
    assert _first_bad(chain) == 11


def test_inserting_an_event_is_found(chain):
    # Make room at 4 by renumbering 4.. upwards (from the top, so the unique index holds), then
    # insert a copy of event 2 as the new 4.
    for seq in range(12, 3, -1):
        tamper(f"UPDATE {T} SET seq = seq + 1 WHERE chain_id = %s AND seq = %s", (chain, seq))
    tamper(
        f"INSERT INTO {T} (chain_id, seq, occurred_at, actor_type, actor_id, actor_label, ip, user_agent, action,"
        " resource_type, resource_id, changes, request_id, prev_hash, hash)"
        f" SELECT chain_id, 4, occurred_at, actor_type, actor_id, actor_label, ip, user_agent, action, resource_type,"
        f" resource_id, changes, request_id, prev_hash, hash FROM {T} WHERE chain_id = %s AND seq = 2",
        (chain,),
    )
    assert _first_bad(chain) == 4


def test_swapping_two_events_is_found(chain):
    tamper(f"UPDATE {T} SET seq = 1000 WHERE chain_id = %s AND seq = 3", (chain,))
    tamper(f"UPDATE {T} SET seq = 3 WHERE chain_id = %s AND seq = 8", (chain,))
    tamper(f"UPDATE {T} SET seq = 8 WHERE chain_id = %s AND seq = 1000", (chain,))
    assert _first_bad(chain) == 3


def test_rewriting_the_whole_chain_is_caught_by_the_signed_checkpoint(db, settings):
    """An attacker who recomputes every hash (and the head) still cannot re-sign the checkpoint."""
    from bastion.audit import chain as audit_chain
    from bastion.audit.format import GENESIS_HASH, entry_hash
    from bastion.audit.models import AuditEvent

    settings.BASTION_AUDIT_CHECKPOINT_EVERY = 4
    chain_id = make_chain(8)
    try:
        tamper(f"UPDATE {T} SET actor_label = 'framed' WHERE chain_id = %s AND seq = 2", (chain_id,))
        prev = GENESIS_HASH
        from django.db import transaction

        from bastion.db.rls import set_setting

        with transaction.atomic():
            set_setting("bastion.org_id", chain_id)
            events = list(AuditEvent.objects.filter(chain_id=chain_id).order_by("seq"))
        for event in events:
            digest = entry_hash(prev, audit_chain.body_of(event))
            tamper(f"UPDATE {T} SET prev_hash = %s, hash = %s WHERE chain_id = %s AND seq = %s",
                   (prev.hex(), digest.hex(), chain_id, event.seq))
            prev = digest
        tamper("UPDATE audit_chainhead SET hash = %s WHERE chain_id = %s", (prev.hex(), chain_id))
        report = verify_chain(chain_id)
        assert not report.ok
        assert report.first_bad_seq == 4 and "checkpoint" in report.message
    finally:
        forget(chain_id)


@settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(
    size=st.integers(min_value=2, max_value=20),
    data=st.data(),
    kind=st.sampled_from(["edit", "delete", "swap"]),
)
def test_random_tampering_is_found_at_the_right_place(db, size, data, kind):
    chain_id = make_chain(size)
    try:
        target = data.draw(st.integers(min_value=1, max_value=size - 1))
        if kind == "edit":
            tamper(f"UPDATE {T} SET resource_id = 'x' WHERE chain_id = %s AND seq = %s", (chain_id, target))
            expected = target
        elif kind == "delete":
            tamper(f"DELETE FROM {T} WHERE chain_id = %s AND seq = %s", (chain_id, target))
            expected = target
        else:
            other = data.draw(st.integers(min_value=target + 1, max_value=size))
            for seq_from, seq_to in ((target, 100000), (other, target), (100000, other)):
                tamper(f"UPDATE {T} SET seq = %s WHERE chain_id = %s AND seq = %s", (seq_to, chain_id, seq_from))
            expected = target
        assert _first_bad(chain_id) == expected
    finally:
        forget(chain_id)
