"""Property tests: proofs over random trees of up to 10,000 leaves verify, tampered ones fail."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.errors import LedgerVerificationError
from silkgate.ledger import merkle

MAX = 10_000


@cache
def tree() -> tuple[list[bytes], dict[merkle.NodeKey, bytes]]:
    """Leaf hashes and every perfect-subtree node of a 10,000-leaf tree. A tree of any
    smaller size is a prefix of it and uses the same perfect subtrees."""
    hashes = [merkle.leaf_hash(b"leaf %d" % i) for i in range(MAX)]
    nodes: dict[merkle.NodeKey, bytes] = {}
    for start in range(0, MAX, 777):
        chunk = hashes[start : start + 777]
        nodes.update(merkle.new_nodes(start, chunk, lambda keys: nodes))
    return hashes, nodes


def read(keys: Sequence[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
    nodes = tree()[1]
    return {k: nodes[k] for k in keys if k in nodes}


def root(size: int) -> bytes:
    return merkle.root_from_nodes(size, read)


def flipped(proof: list[bytes], element: int, bit: int) -> list[bytes]:
    out = list(proof)
    changed = bytearray(out[element])
    changed[bit // 8] ^= 1 << (bit % 8)
    out[element] = bytes(changed)
    return out


def test_roots_agree_with_the_list_computation() -> None:
    hashes, _ = tree()
    for size in (1, 2, 3, 255, 256, 257, 4095, 4096, 9999, MAX):
        assert root(size) == merkle.root_of(hashes[:size])


@pytest.mark.parametrize("size", [1, 2, 1023, 1024, 1025, 7777, MAX])
def test_every_inclusion_proof_verifies(size: int) -> None:
    hashes, _ = tree()
    top = root(size)
    for index in range(size):
        proof = merkle.inclusion_proof(index, size, read)
        merkle.verify_inclusion(hashes[index], index, size, proof, top)


@st.composite
def size_and_index(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, MAX))
    return size, draw(st.integers(0, size - 1))


@settings(max_examples=300, deadline=None)
@given(size_and_index(), st.data())
def test_inclusion_proofs_verify_and_tampering_fails(
    case: tuple[int, int], data: st.DataObject
) -> None:
    size, index = case
    hashes, _ = tree()
    leaf, top = hashes[index], root(size)
    proof = merkle.inclusion_proof(index, size, read)
    merkle.verify_inclusion(leaf, index, size, proof, top)
    other = data.draw(st.integers(0, MAX - 1).filter(lambda i: i != index), label="other")
    bad_size = data.draw(st.integers(index + 1, MAX).filter(lambda s: s != size), label="size")
    attempts: list[tuple[bytes, int, int, list[bytes], bytes]] = [
        (leaf, other, size, proof, top),
        (hashes[other], index, size, proof, top),
        (leaf, index, size, [*proof, hashes[0]], top),
    ]
    # A proof does not bind the tree size by itself (it is bound by the signed checkpoint):
    # the same path can be valid for two sizes. Tampering means claiming a wrong proof.
    if merkle.inclusion_proof(index, bad_size, read) != proof:
        attempts.append((leaf, index, bad_size, proof, root(bad_size)))
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        attempts += [
            (leaf, index, size, flipped(proof, element, bit), top),
            (leaf, index, size, proof[:element] + proof[element + 1 :], top),
        ]
    for args in attempts:
        with pytest.raises(LedgerVerificationError):
            merkle.verify_inclusion(*args)


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    a, b = draw(st.integers(1, MAX)), draw(st.integers(1, MAX))
    return min(a, b), max(a, b)


@settings(max_examples=300, deadline=None)
@given(two_sizes(), st.data())
def test_consistency_proofs_verify_and_tampering_fails(
    sizes: tuple[int, int], data: st.DataObject
) -> None:
    size1, size2 = sizes
    root1, root2 = root(size1), root(size2)
    proof = merkle.consistency_proof(size1, size2, read)
    merkle.verify_consistency(size1, size2, proof, root1, root2)
    other = data.draw(st.integers(1, MAX).filter(lambda s: s not in (size1, size2)))
    attempts: list[tuple[int, int, list[bytes], bytes, bytes]] = [
        (size1, size2, proof, root(other), root2),
        (size1, size2, proof, root1, root(other)),
        (size1, size2, [*proof, root1], root1, root2),
    ]
    # As for inclusion, only claims the proof does not actually support are tampering.
    for s1, s2 in ((other, size2), (size1, other)):
        if (0 < s1 <= s2 and merkle.consistency_proof(s1, s2, read) != proof) or s1 > s2:
            attempts.append((s1, s2, proof, root(s1), root(s2)))
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1), label="element")
        bit = data.draw(st.integers(0, 255), label="bit")
        attempts += [
            (size1, size2, flipped(proof, element, bit), root1, root2),
            (size1, size2, proof[:element] + proof[element + 1 :], root1, root2),
        ]
    for args in attempts:
        with pytest.raises(LedgerVerificationError):
            merkle.verify_consistency(*args)
