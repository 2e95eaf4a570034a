"""Run the RFC 9162 vectors of tests/vectors/merkle against silkgate.ledger.merkle."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from silkgate.errors import LedgerVerificationError
from silkgate.ledger import merkle

VECTORS = Path(__file__).parent.parent / "vectors" / "merkle"


@cache
def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return doc


def unhex(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def mutate_proof(proof: list[bytes], t: Mapping[str, Any], extra: bytes) -> list[bytes]:
    out = list(proof)
    if t["kind"] == "flip":
        element = bytearray(out[t["element"]])
        element[t["bit"] // 8] ^= 0x80 >> (t["bit"] % 8)
        out[t["element"]] = bytes(element)
    elif t["kind"] == "extra":
        out.insert(t["position"], extra)
    elif t["kind"] == "missing":
        del out[t["element"]]
    return out


def leaf_reader(hashes: Sequence[bytes]) -> merkle.NodeReader:
    """A node reader over in-memory leaf hashes (perfect subtrees computed naively)."""

    def read(keys: Sequence[merkle.NodeKey]) -> dict[merkle.NodeKey, bytes]:
        out = {}
        for level, index in keys:
            span = hashes[index << level : (index + 1) << level]
            if len(span) == 1 << level:
                out[(level, index)] = merkle.root_of(span)
        return out

    return read


def nodes_reader(nodes: dict[merkle.NodeKey, bytes]) -> merkle.NodeReader:
    return lambda keys: nodes


def test_leaf_hashes_and_roots() -> None:
    doc = load("roots.json")
    leaves = unhex(doc["leaves"])
    hashes = unhex(doc["leaf_hashes"])
    assert [merkle.leaf_hash(d) for d in leaves] == hashes
    for size, root in enumerate(unhex(doc["roots"])):
        assert merkle.root_of(hashes[:size]) == root
        assert merkle.root_from_nodes(size, leaf_reader(hashes)) == root


def test_roots_by_appending_in_every_split() -> None:
    doc = load("roots.json")
    hashes = unhex(doc["leaf_hashes"])[:64]
    roots = unhex(doc["roots"])
    for step in (1, 2, 3, 7, 16, 64):
        nodes: dict[merkle.NodeKey, bytes] = {}
        for start in range(0, 64, step):
            chunk = hashes[start : start + step]
            nodes.update(merkle.new_nodes(start, chunk, nodes_reader(nodes)))
            size = start + len(chunk)
            assert merkle.root_from_nodes(size, nodes_reader(nodes)) == roots[size]


def test_inclusion_vectors() -> None:
    doc = load("inclusion.json")
    hashes = unhex(load("roots.json")["leaf_hashes"])
    extra = bytes.fromhex(doc["extra_hash"])
    rejected = 0
    for case in doc["cases"]:
        proof = unhex(case["proof"])
        leaf, root = bytes.fromhex(case["leaf_hash"]), bytes.fromhex(case["root"])
        index, size = case["index"], case["size"]
        merkle.verify_inclusion(leaf, index, size, proof, root)
        assert merkle.inclusion_proof(index, size, leaf_reader(hashes)) == proof
        for t in case["tampered"]:
            args: dict[str, Any] = {
                "leaf_hash": leaf,
                "index": index,
                "size": size,
                "proof": mutate_proof(proof, t, extra),
                "root": root,
            }
            for key in ("index", "size"):
                args[key] = t.get(key, args[key])
            for key in ("leaf_hash", "root"):
                if key in t:
                    args[key] = bytes.fromhex(t[key])
            with pytest.raises(LedgerVerificationError):
                merkle.verify_inclusion(**args)
            rejected += 1
    assert len(doc["cases"]) == 64 * 65 // 2
    assert rejected > 20_000


def test_consistency_vectors() -> None:
    doc = load("consistency.json")
    hashes = unhex(load("roots.json")["leaf_hashes"])
    extra = bytes.fromhex(doc["extra_hash"])
    rejected = 0
    for case in doc["cases"]:
        proof = unhex(case["proof"])
        root1, root2 = bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"])
        size1, size2 = case["size1"], case["size2"]
        merkle.verify_consistency(size1, size2, proof, root1, root2)
        assert merkle.consistency_proof(size1, size2, leaf_reader(hashes)) == proof
        for t in case["tampered"]:
            args: dict[str, Any] = {
                "size1": size1,
                "size2": size2,
                "proof": mutate_proof(proof, t, extra),
                "root1": root1,
                "root2": root2,
            }
            for key in ("size1", "size2"):
                args[key] = t.get(key, args[key])
            for key in ("root1", "root2"):
                if key in t:
                    args[key] = bytes.fromhex(t[key])
            with pytest.raises(LedgerVerificationError):
                merkle.verify_consistency(**args)
            rejected += 1
    assert len(doc["cases"]) == 64 * 65 // 2
    assert rejected > 20_000


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33])
def test_proof_elements_must_be_32_bytes(bad: bytes) -> None:
    good = b"\x00" * 32
    with pytest.raises(LedgerVerificationError, match="32-byte"):
        merkle.verify_inclusion(good, 0, 2, [bad], good)
    with pytest.raises(LedgerVerificationError, match="32-byte"):
        merkle.verify_consistency(1, 2, [bad], good, good)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 5), (6, 5), (-1, 3)])
def test_consistency_refuses_sizes_out_of_order(size1: int, size2: int) -> None:
    root = merkle.EMPTY_ROOT
    with pytest.raises(LedgerVerificationError, match="0 < size1 <= size2"):
        merkle.verify_consistency(size1, size2, [], root, root)


def test_empty_tree_root_is_hash_of_nothing() -> None:
    assert merkle.root_of([]).hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
