"""The template that writes an event body's canonical bytes (``format._event_text``, behind
``format.canonical`` and so behind every entry hash, on append and in both verifiers) gives exactly
the RFC 8785 reference's bytes, or steps aside; and ``format_time``'s fast path writes what
``strftime`` wrote."""

from __future__ import annotations

import datetime

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.audit import format

from .test_format import EVENT_1, EVENT_1_BYTES, EVENT_2, EVENT_2_BYTES, EVENT_V2, EVENT_V2_BYTES
from .test_jcs import any_text, body_like, values

# Every string, lone surrogates included; escapes, controls, 2-, 3- and 4-byte UTF-8.
texts = st.one_of(any_text, st.sampled_from(["", "café ✓ 𝄞", "\x00\x1f\"\\/\u2028", "psn_0123456789abcdef0123"]))
seqs = st.one_of(st.integers(-(2**53) - 2, 2**53 + 2), st.sampled_from([9, 10, 99, 100, 999, 1000, 2**53 - 1]),
                 st.booleans())
fields = {"chain": texts, "seq": seqs, "time": texts, "actor_type": texts, "actor_id": texts, "actor_label": texts,
          "action": texts, "resource_type": texts, "resource_id": texts, "request_id": texts}
bodies_v1 = st.builds(format.event_body, **fields, ip=st.one_of(st.none(), texts), user_agent=texts,
                      changes=st.one_of(st.dictionaries(st.text(max_size=8), body_like, max_size=4),
                                        st.dictionaries(any_text, values, max_size=3)))
bodies_v2 = st.builds(format.event_body_v2, **fields,
                      changes=st.one_of(st.dictionaries(st.text(max_size=8), body_like, max_size=4),
                                        st.dictionaries(any_text, values, max_size=3)),
                      personal=st.one_of(st.dictionaries(st.text(max_size=24), st.text(max_size=64), max_size=3),
                                         st.dictionaries(any_text, values, max_size=2)))


def outcome(dumps, value):
    try:
        return ("bytes", dumps(value))
    except ValueError as error:
        return ("error", type(error))


@settings(max_examples=800, deadline=None)
@given(st.one_of(bodies_v1, bodies_v2))
def test_event_bodies_give_the_references_bytes_or_its_error(body):
    assert outcome(format.canonical, body) == outcome(rfc8785.dumps, body)


@pytest.mark.parametrize("body", [
    format.event_body(**EVENT_1), format.event_body(**EVENT_2), format.event_body_v2(**EVENT_V2),
])
def test_the_golden_events_take_the_template(body):
    text = format._event_text(body)
    assert text is not None and text.encode("utf-8") == rfc8785.dumps(body)
    assert text.encode("utf-8") in (EVENT_1_BYTES, EVENT_2_BYTES, EVENT_V2_BYTES)


@pytest.mark.parametrize("change", [
    lambda b: b.update(extra=1), lambda b: b.pop("changes"), lambda b: b["actor"].update(extra=1),
    lambda b: b["resource"].pop("id"), lambda b: b.update(seq=True), lambda b: b.update(seq=2**53),
    lambda b: b.update(format="bastion-audit/9"), lambda b: b.update(changes={"é": 1}),
    lambda b: b.update(changes={"f": 1.5}), lambda b: b.update(time=None),
])
def test_bodies_of_another_shape_leave_the_template(change):
    """Anything not shaped as ``event_body_v2`` builds it goes to the generic path (and the reference)."""
    body = format.event_body_v2(**EVENT_V2)
    change(body)
    assert format._event_text(body) is None
    assert outcome(format.canonical, body) == outcome(rfc8785.dumps, body)


@settings(max_examples=500, deadline=None)
@given(st.datetimes(min_value=datetime.datetime(2, 1, 1), max_value=datetime.datetime(9998, 12, 31), timezones=st.sampled_from([datetime.UTC, datetime.timezone(datetime.timedelta(hours=-11, minutes=-30))])))
def test_times_are_written_as_strftime_wrote_them(moment):  # years below 1000 included
    utc = moment.astimezone(datetime.UTC)
    assert format.format_time(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
