"""RFC 8785 (JSON Canonicalization Scheme) bytes, fast where the value allows, exact everywhere.

``rfc8785.dumps`` is the reference, and pure Python: it dominates an audit append and a chain
verification. The standard library's C JSON encoder writes the same bytes as RFC 8785 for a
smaller domain of values, so ``dumps`` uses it only after checking that the value lies inside that
domain, and hands everything else to the reference:

- objects (``dict``) whose keys are ASCII strings: RFC 8785 orders keys by UTF-16 code units and
  Python by code points; the two orders agree on ASCII (they differ only between characters above
  U+FFFF and those in U+E000–U+FFFF);
- arrays (``list`` or ``tuple``), strings, ``None``, ``True``/``False``;
- integers within ±(2**53 − 1) (the reference refuses the others, and so it is left to say so);
- no ``float``: ECMAScript number formatting (``1.0`` → ``1``, ``1e21``) differs from ``repr``.

Strings: both escape ``"``, ``\\`` and the controls below U+0020 the same way (``\\b \\f \\n \\r \\t``,
the rest as lowercase ``\\u00xx``) and write everything else as UTF-8; a lone surrogate fails the
UTF-8 encoding, and the reference then raises its own error.

Only exact built-in types take the fast path (a ``str`` enum or an ``int`` subclass goes to the
reference). ``tests/audit/test_jcs.py`` proves the two byte-identical with property tests over
this domain and over values outside it, and the golden vectors of ``test_format.py`` pin both.

Written here rather than taken from a library because no maintained package offers a C-speed
RFC 8785 encoder; this is a guard in front of the reference, not a second implementation.
"""

from __future__ import annotations

import json
import json.encoder
from typing import Any

import rfc8785

_INT_LIMIT = 2**53 - 1
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
# The same C encoder ``_ENCODER.encode`` builds on every call, built once (no indent, so it returns the
# whole text as one chunk). No circular-reference markers: ``_in_fast_domain`` has walked the value first.
_C_ENCODER = (json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, None, json.encoder.c_encode_basestring, None, ":", ",", True, False, False)  # type: ignore[attr-defined]
    if json.encoder.c_make_encoder is not None else None)  # type: ignore[attr-defined]


def _encode(value: Any) -> str:
    if _C_ENCODER is None or type(value) is str:
        return _ENCODER.encode(value)
    return "".join(_C_ENCODER(value, 0))


def _fast(item: Any) -> bool:
    kind = type(item)
    if kind is str or item is None or kind is bool:
        return True
    if kind is int:
        return bool(-_INT_LIMIT <= item <= _INT_LIMIT)
    if kind is dict:
        for key, value in item.items():
            if type(key) is not str or not key.isascii():
                return False
            if type(value) is not str and not _fast(value):
                return False
        return True
    if kind is list or kind is tuple:
        for value in item:
            if type(value) is not str and not _fast(value):
                return False
        return True
    return False


def _in_fast_domain(value: Any) -> bool:
    try:
        return _fast(value)
    except RecursionError:  # nested too deeply for the fast path: the reference decides
        return False


def fast_text(value: Any) -> str | None:
    """The canonical text of ``value`` (before its UTF-8 encoding, which can still fail on a lone
    surrogate) when it lies inside the fast domain; else None."""
    return _encode(value) if _in_fast_domain(value) else None


def dumps(value: Any) -> bytes:
    """The RFC 8785 canonical bytes of ``value``; raises ``rfc8785.CanonicalizationError`` where
    the reference does."""
    text = fast_text(value)
    if text is not None:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the reference raises its own error for it
    return rfc8785.dumps(value)
