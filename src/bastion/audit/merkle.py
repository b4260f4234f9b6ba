"""RFC 9162 (Certificate Transparency v2) Merkle tree: roots, inclusion and consistency proofs.

Written here rather than taken from PyPI: no maintained package implements the RFC 9162 proof
algorithms with this API (leaf data in, plain ``bytes`` out, and an incremental frontier that can be
stored in a database row). The algorithms are short, follow the RFC step by step, and are pinned by
the RFC 6962 test vectors and property tests in tests/audit/test_merkle.py.

Pure Python: no Django, no database. In Bastion each leaf's data is the 32-byte entry hash of one
event, in sequence order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def _mth(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]), RFC 9162 §2.1.1, without copying the leaves."""
    n = end - start
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hash(leaves[start])
    k = _split(n)
    return node_hash(_mth(leaves, start, start + k), _mth(leaves, start + k, end))


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of all ``leaves``."""
    return _mth(leaves, 0, len(leaves))


class Frontier:
    """The right edge of a tree: the roots of its perfect subtrees, largest first.

    A tree of ``n`` leaves has one perfect subtree per bit set in ``n``, so the frontier holds at most
    log2(n) + 1 hashes, and appending a leaf costs O(log n) hashes.
    """

    def __init__(self, nodes: list[tuple[int, bytes]] | None = None) -> None:
        self._nodes: list[tuple[int, bytes]] = list(nodes or [])

    @property
    def size(self) -> int:
        return sum(1 << height for height, _ in self._nodes)

    def append(self, leaf_data: bytes) -> None:
        nodes = self._nodes
        nodes.append((0, leaf_hash(leaf_data)))
        while len(nodes) >= 2 and nodes[-2][0] == nodes[-1][0]:
            height, right = nodes.pop()
            _, left = nodes.pop()
            nodes.append((height + 1, node_hash(left, right)))

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        # MTH splits off the largest perfect subtree on the left, so the root folds from the right.
        result = self._nodes[-1][1]
        for _, subtree in reversed(self._nodes[:-1]):
            result = node_hash(subtree, result)
        return result

    def to_json(self) -> list[list[Any]]:
        return [[height, subtree.hex()] for height, subtree in self._nodes]

    @classmethod
    def from_json(cls, data: Any) -> Frontier:
        """The inverse of ``to_json``; raises ``ValueError`` on anything it could not have produced."""
        if not isinstance(data, list):
            raise ValueError("a frontier is a list of [height, hex] pairs")
        nodes: list[tuple[int, bytes]] = []
        for item in data:
            if not (isinstance(item, list) and len(item) == 2):
                raise ValueError("a frontier is a list of [height, hex] pairs")
            height, hex_hash = item
            if type(height) is not int or height < 0 or (nodes and height >= nodes[-1][0]):
                raise ValueError("frontier heights must be non-negative and strictly decreasing")
            subtree = bytes.fromhex(hex_hash) if isinstance(hex_hash, str) else b""
            if len(subtree) != HASH_SIZE:
                raise ValueError("frontier hashes must be 32 bytes of hex")
            nodes.append((height, subtree))
        return cls(nodes)


def _path(index: int, leaves: Sequence[bytes], start: int, end: int) -> list[bytes]:
    """PATH(index, D[start:end]), RFC 9162 §2.1.3.1."""
    n = end - start
    if n == 1:
        return []
    k = _split(n)
    if index < k:
        return _path(index, leaves, start, start + k) + [_mth(leaves, start + k, end)]
    return _path(index - k, leaves, start + k, end) + [_mth(leaves, start, start + k)]


def inclusion_proof(leaves: Sequence[bytes], index: int, tree_size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of the first ``tree_size`` leaves."""
    if not 0 <= index < tree_size <= len(leaves):
        raise ValueError(f"need 0 <= index ({index}) < tree_size ({tree_size}) <= {len(leaves)} leaves")
    return _path(index, leaves, 0, tree_size)


def verify_inclusion(leaf_data: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: is ``leaf_data`` leaf ``index`` of the tree of ``tree_size`` with ``root``?"""
    if not 0 <= index < tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash(leaf_data)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def _subproof(m: int, leaves: Sequence[bytes], start: int, end: int, complete: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], complete), RFC 9162 §2.1.4.1."""
    n = end - start
    if m == n:
        return [] if complete else [_mth(leaves, start, end)]
    k = _split(n)
    if m <= k:
        return _subproof(m, leaves, start, start + k, complete) + [_mth(leaves, start + k, end)]
    return _subproof(m - k, leaves, start + k, end, False) + [_mth(leaves, start, start + k)]


def consistency_proof(leaves: Sequence[bytes], size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]); empty when there is nothing to prove (size1 == 0 or size1 == size2)."""
    if not 0 <= size1 <= size2 <= len(leaves):
        raise ValueError(f"need 0 <= size1 ({size1}) <= size2 ({size2}) <= {len(leaves)} leaves")
    if size1 == 0 or size1 == size2:
        return []
    return _subproof(size1, leaves, 0, size2, True)


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (size2, root2) an append-only extension of (size1, root1)?

    The RFC's algorithm covers 0 < size1 < size2. The trivial cases carry no proof: a tree is
    consistent with itself (size1 == size2, equal roots), and the empty tree (size1 == 0, whose root
    is SHA-256 of the empty string) with every tree.
    """
    if not 0 <= size1 <= size2:
        return False
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof and root1 == EMPTY_ROOT
    # 1. An empty proof cannot prove 0 < size1 < size2.
    if not proof:
        return False
    path = list(proof)
    # 2. When size1 is a power of two, the old tree is a complete subtree and its root starts the path.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # 3.
    fn, sn = size1 - 1, size2 - 1
    # 4.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5.
    fr = sr = path[0]
    # 6.
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # 7.
    return fr == root1 and sr == root2 and sn == 0
