"""The fast canonicaliser writes exactly the bytes of the RFC 8785 reference (``rfc8785``), inside
its fast domain and outside it, and raises where the reference raises."""

from __future__ import annotations

import enum

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.audit import jcs

# Every string Python can hold, lone surrogates included (the reference refuses those).
any_text = st.text(st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()))
# Integers around the edge of the domain (±(2**53 − 1)) and far beyond it.
edge_ints = st.one_of(st.integers(-(2**53) - 3, -(2**53) + 3), st.integers(2**53 - 3, 2**53 + 3),
                      st.integers(), st.integers(-1000, 1000))
scalars = st.one_of(st.none(), st.booleans(), edge_ints, any_text, st.floats(allow_nan=False, allow_infinity=False))
values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=6), st.tuples(children, children),
                               st.dictionaries(any_text, children, max_size=6),
                               st.dictionaries(st.text(max_size=8), children, max_size=6)),
    max_leaves=40,
)
# The shape audit bodies have: ASCII keys, any text, ints in range, nesting.
ascii_keys = st.text(st.characters(min_codepoint=0, max_codepoint=0x7F), max_size=10)
body_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1),
              st.text(st.characters(codec="utf-8"))),
    lambda children: st.one_of(st.lists(children, max_size=8), st.dictionaries(ascii_keys, children, max_size=8)),
    max_leaves=60,
)


def outcome(dumps, value):
    """The bytes, or the type of the error (the reference raises ``UnicodeEncodeError`` itself for a
    lone surrogate in a key, so any ``ValueError`` counts)."""
    try:
        return ("bytes", dumps(value))
    except ValueError as error:
        return ("error", type(error))


def reference(value):
    return outcome(rfc8785.dumps, value)


def fast(value):
    return outcome(jcs.dumps, value)


@settings(max_examples=600, deadline=None)
@given(body_like)
def test_values_shaped_like_audit_bodies_take_the_fast_path_and_match_the_reference(value):
    assert jcs._in_fast_domain(value)
    assert fast(value) == reference(value)


@settings(max_examples=600, deadline=None)
@given(values)
def test_any_value_gives_the_references_bytes_or_its_error(value):
    assert fast(value) == reference(value)


class Colour(enum.StrEnum):
    RED = "red"


class Count(int, enum.Enum):
    ONE = 1


@pytest.mark.parametrize("value", [
    {"b": 1, "a": 2, "": 3, "A": 4, "~": 5, "\x7f": 6},  # ASCII key order
    {"\ue000": 1, "\U0001f600": 2, "é": 3, "z": 4},  # UTF-16 order differs from code-point order here
    {"s": "\x00\x01\x08\t\n\x0b\x0c\r\x1f \"\\/\x7f\u2028\u2029\ufeff"},  # escapes and what is not escaped
    {"n": [2**53 - 1, -(2**53) + 1, 0, -0]},
    {"f": [1.0, 0.1, 1e21, -0.0, 5e-324]},  # floats: ECMAScript formatting, the reference's job
    [Colour.RED, Count.ONE, ("t", "u")],  # subclasses and tuples
])
def test_edge_cases_match_the_reference(value):
    assert jcs.dumps(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [
    {"n": 2**53}, {"n": -(2**53)}, {"s": "\ud800"}, {1: "x"}, {"x": {1, 2}}, {"x": b"bytes"},
    {"f": float("nan")},
])
def test_values_the_reference_refuses_are_refused_the_same_way(value):
    with pytest.raises(rfc8785.CanonicalizationError) as expected:
        rfc8785.dumps(value)
    with pytest.raises(type(expected.value)):
        jcs.dumps(value)


def test_the_rfc_8785_example_object():
    """The example of RFC 8785 section 3.2.3 (sorting), whose keys are outside the fast domain."""
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\x80": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
    expected = ('{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",'
                '"\u20ac":"Euro Sign","\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}')
    assert jcs.dumps(value) == expected.encode("utf-8")
