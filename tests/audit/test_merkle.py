"""RFC 9162 Merkle tree: pinned to the RFC 6962 reference vectors, then checked by properties."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bastion.audit import merkle

# The certificate-transparency reference test vectors (also in transparency-dev/merkle's testonly).
CT_LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                         "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size) -> audit path
CT_INCLUSION = {
    (0, 1): [],
    (0, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (5, 8): ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}
# (size1, size2) -> consistency proof
CT_CONSISTENCY = {
    (1, 1): [],
    (1, 8): ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
    (6, 8): ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"],
    (2, 5): ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"],
}

# Roots of trees over b"" and bytes([i]) (not external vectors: computed once and pinned here, so
# any change to the hashing shows up).
SMALL_LEAVES = [b""] + [bytes([i]) for i in range(1, 7)]
SMALL_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "5397b75fcd025549e5c6c04c86b73ee49d8a3135745f4e082f08397d79fa37b3",
    3: "d3a511a9703507dde9650e5a6c1b83cc3e7d73da44ecf795f18e6728f9bf2d8b",
    7: "64cd69556cc7bc8cdbc051677e22c884ea51c6e45400de4e8b027c3aaae74c5f",
}

leaf_lists = st.lists(st.binary(max_size=8), min_size=1, max_size=40, unique=True)


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


def test_the_empty_tree_is_the_hash_of_nothing():
    assert merkle.root([]) == hashlib.sha256(b"").digest() == bytes.fromhex(CT_ROOTS[0])
    assert merkle.Frontier().root() == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_roots_match_the_reference_vectors(size):
    assert merkle.root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


def test_roots_of_small_byte_trees_are_pinned():
    for size, expected in SMALL_ROOTS.items():
        assert merkle.root(SMALL_LEAVES[:size]).hex() == expected


def test_hashes_are_domain_separated():
    assert merkle.leaf_hash(b"ab") == hashlib.sha256(b"\x00ab").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()


@pytest.mark.parametrize(("index", "size"), CT_INCLUSION)
def test_inclusion_proofs_match_the_reference_vectors(index, size):
    proof = merkle.inclusion_proof(CT_LEAVES, index, size)
    assert [node.hex() for node in proof] == CT_INCLUSION[index, size]
    assert merkle.verify_inclusion(CT_LEAVES[index], index, size, proof, bytes.fromhex(CT_ROOTS[size]))


@pytest.mark.parametrize(("size1", "size2"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_reference_vectors(size1, size2):
    proof = merkle.consistency_proof(CT_LEAVES, size1, size2)
    assert [node.hex() for node in proof] == CT_CONSISTENCY[size1, size2]
    root1, root2 = bytes.fromhex(CT_ROOTS[size1]), bytes.fromhex(CT_ROOTS[size2])
    assert merkle.verify_consistency(size1, size2, root1, root2, proof)


def test_trivial_consistency_cases():
    empty, root8 = merkle.EMPTY_ROOT, bytes.fromhex(CT_ROOTS[8])
    assert merkle.consistency_proof(CT_LEAVES, 0, 8) == []
    assert merkle.verify_consistency(0, 8, empty, root8, [])
    assert merkle.verify_consistency(0, 0, empty, empty, [])
    assert not merkle.verify_consistency(0, 8, root8, root8, [])  # size 0 has only one root
    assert not merkle.verify_consistency(0, 8, empty, root8, [root8])
    assert merkle.verify_consistency(8, 8, root8, root8, [])
    assert not merkle.verify_consistency(8, 8, root8, empty, [])
    assert not merkle.verify_consistency(8, 8, root8, root8, [root8])
    assert not merkle.verify_consistency(8, 4, root8, root8, [])
    assert not merkle.verify_consistency(4, 8, bytes.fromhex(CT_ROOTS[4]), root8, [])


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError):
        merkle.inclusion_proof(CT_LEAVES, 8, 8)
    with pytest.raises(ValueError):
        merkle.inclusion_proof(CT_LEAVES, 0, 9)
    with pytest.raises(ValueError):
        merkle.consistency_proof(CT_LEAVES, 5, 4)
    root8 = bytes.fromhex(CT_ROOTS[8])
    assert not merkle.verify_inclusion(CT_LEAVES[0], 8, 8, [], root8)
    assert not merkle.verify_inclusion(CT_LEAVES[0], -1, 8, [], root8)


@given(leaf_lists, st.data())
def test_every_inclusion_proof_verifies_and_any_change_breaks_it(leaves, data):
    size = data.draw(st.integers(1, len(leaves)), label="tree_size")
    index = data.draw(st.integers(0, size - 1), label="index")
    tree_root = merkle.root(leaves[:size])
    proof = merkle.inclusion_proof(leaves, index, size)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, tree_root)

    other_index = data.draw(st.integers(0, size - 1), label="other_index")
    assume(other_index != index or size == 1)
    if other_index != index:
        assert not merkle.verify_inclusion(leaves[index], other_index, size, proof, tree_root)
    assert not merkle.verify_inclusion(leaves[index] + b"x", index, size, proof, tree_root)
    assert not merkle.verify_inclusion(leaves[index], index, size, proof, _flip(tree_root))
    assert not merkle.verify_inclusion(leaves[index], index, size, proof + [tree_root], tree_root)
    for position in range(len(proof)):
        tampered = proof[:position] + [_flip(proof[position])] + proof[position + 1 :]
        assert not merkle.verify_inclusion(leaves[index], index, size, tampered, tree_root)
        assert not merkle.verify_inclusion(leaves[index], index, size, proof[:position], tree_root)


@given(leaf_lists, st.data())
def test_every_consistency_proof_verifies_and_any_change_breaks_it(leaves, data):
    size2 = data.draw(st.integers(1, len(leaves)), label="size2")
    size1 = data.draw(st.integers(0, size2), label="size1")
    root1, root2 = merkle.root(leaves[:size1]), merkle.root(leaves[:size2])
    proof = merkle.consistency_proof(leaves, size1, size2)
    assert merkle.verify_consistency(size1, size2, root1, root2, proof)

    assert not merkle.verify_consistency(size1, size2, _flip(root1), root2, proof)
    if size1 > 0:  # the empty tree is consistent with every tree, whatever its root
        assert not merkle.verify_consistency(size1, size2, root1, _flip(root2), proof)
    assert not merkle.verify_consistency(size1, size2, root1, root2, proof + [root2])
    for position in range(len(proof)):
        tampered = proof[:position] + [_flip(proof[position])] + proof[position + 1 :]
        assert not merkle.verify_consistency(size1, size2, root1, root2, tampered)
        assert not merkle.verify_consistency(size1, size2, root1, root2, proof[:position])
    if 0 < size1 < size2:
        # The same proof must not pass for a different old tree of the same size.
        other = leaves[: size1 - 1] + [leaves[size1 - 1] + b"x"]
        assert not merkle.verify_consistency(size1, size2, merkle.root(other), root2, proof)


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_the_frontier_matches_the_root_of_every_prefix(leaves):
    frontier = merkle.Frontier()
    assert frontier.size == 0
    for count, leaf in enumerate(leaves, 1):
        frontier.append(leaf)
        assert frontier.size == count
        assert frontier.root() == merkle.root(leaves[:count])
        stored = json.loads(json.dumps(frontier.to_json()))
        restored = merkle.Frontier.from_json(stored)
        assert restored.size == count and restored.root() == frontier.root()
        assert restored.to_json() == stored
    assert len(frontier.to_json()) == bin(len(leaves)).count("1")


def test_a_restored_frontier_keeps_growing_like_the_original():
    frontier = merkle.Frontier()
    for leaf in SMALL_LEAVES[:5]:
        frontier.append(leaf)
    restored = merkle.Frontier.from_json(frontier.to_json())
    for leaf in SMALL_LEAVES[5:]:
        restored.append(leaf)
    assert restored.root() == merkle.root(SMALL_LEAVES)


@pytest.mark.parametrize("bad", [
    {"0": "x"}, [[0]], [["0", "00" * 32]], [[-1, "00" * 32]], [[0, "00" * 31]], [[0, "zz" * 32]],
    [[0, "00" * 32], [1, "00" * 32]], [[1, "00" * 32], [1, "00" * 32]], [[True, "00" * 32]], [[0, 5]],
])
def test_from_json_refuses_what_to_json_cannot_produce(bad):
    with pytest.raises(ValueError):
        merkle.Frontier.from_json(bad)
