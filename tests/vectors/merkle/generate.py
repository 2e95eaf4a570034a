"""Generate the RFC 9162 Merkle test vectors in this directory.

Independent of silkgate's code on purpose: MTH, PATH and PROOF are written here straight
from the recursive definitions of RFC 9162, sections 2.1.1, 2.1.3.1 and 2.1.4.1, naively.

    python tests/vectors/merkle/generate.py

writes roots.json, inclusion.json and consistency.json. Each tampered variant is a
mutation of its base case that a verifier must reject: "index"/"size"/"size1"/"size2"/
"leaf"/"root"/"root1"/"root2" replace that field; "flip" flips bit `bit` (0 = most
significant bit of byte 0) of proof element `element`; "extra" inserts the file's
`extra_hash` at `position`; "missing" removes proof element `element`.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

MAX_SIZE = 64
HERE = Path(__file__).parent


def leaf_data(i: int) -> bytes:
    return f"silkgate test leaf {i}".encode()


@cache
def leaf(i: int) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_data(i)).digest()


def k_of(n: int) -> int:
    """The largest power of two smaller than n."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@cache
def mth(start: int, end: int) -> bytes:
    """MTH(D[start:end])."""
    n = end - start
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaf(start)
    k = k_of(n)
    return hashlib.sha256(b"\x01" + mth(start, start + k) + mth(start + k, end)).digest()


def path(m: int, start: int, end: int) -> list[bytes]:
    """PATH(m, D[start:end])."""
    n = end - start
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return [*path(m, start, start + k), mth(start + k, end)]
    return [*path(m - k, start + k, end), mth(start, start + k)]


def subproof(m: int, start: int, end: int, b: bool) -> list[bytes]:
    """SUBPROOF(m, D[start:end], b)."""
    n = end - start
    if m == n:
        return [] if b else [mth(start, end)]
    k = k_of(n)
    if m <= k:
        return [*subproof(m, start, start + k, b), mth(start + k, end)]
    return [*subproof(m - k, start + k, end, False), mth(start, start + k)]


def flip_bit(element: int) -> int:
    """Which bit of a proof element the flip variant changes (spread over the hash)."""
    return (element * 37 + 5) % 256


EXTRA = hashlib.sha256(b"extra").hexdigest()


def proof_mutations(proof: list[bytes]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {"kind": "flip", "element": j, "bit": flip_bit(j)} for j in range(len(proof))
    ]
    out += [
        {"kind": "extra", "position": 0},
        {"kind": "extra", "position": len(proof)},
    ]
    if proof:
        out += [{"kind": "missing", "element": 0}, {"kind": "missing", "element": len(proof) - 1}]
    return out


def inclusion_case(index: int, size: int) -> dict[str, Any]:
    proof = path(index, 0, size)
    tampered: list[dict[str, Any]] = [
        {"kind": "index", "index": index + 1},
        {"kind": "size", "size": size * 2},
        {"kind": "size", "size": size // 2},
        {"kind": "leaf", "leaf_hash": leaf(index + 1).hex()},
        {"kind": "root", "root": mth(0, size + 1).hex()},
    ]
    if index > 0:
        tampered.insert(0, {"kind": "index", "index": index - 1})
    return {
        "index": index,
        "size": size,
        "leaf_hash": leaf(index).hex(),
        "root": mth(0, size).hex(),
        "proof": [h.hex() for h in proof],
        "tampered": tampered + proof_mutations(proof),
    }


def consistency_case(size1: int, size2: int) -> dict[str, Any]:
    proof = subproof(size1, 0, size2, True)
    tampered: list[dict[str, Any]] = [
        {"kind": "size1", "size1": size1 + 1},
        {"kind": "size1", "size1": size1 - 1},
        {"kind": "size2", "size2": size2 * 2},
        {"kind": "size2", "size2": size2 // 2},
        {"kind": "root1", "root1": mth(0, size1 + 1).hex()},
        {"kind": "root2", "root2": mth(0, size2 + 1).hex()},
    ]
    return {
        "size1": size1,
        "size2": size2,
        "root1": mth(0, size1).hex(),
        "root2": mth(0, size2).hex(),
        "proof": [h.hex() for h in proof],
        "tampered": tampered + proof_mutations(proof),
    }


def write(name: str, doc: dict[str, Any]) -> None:
    text = json.dumps(doc, separators=(",", ":"), sort_keys=True)
    (HERE / name).write_text(text + "\n", encoding="utf-8")


def main() -> None:
    about = "RFC 9162 Merkle vectors; leaf i holds the UTF-8 bytes 'silkgate test leaf <i>'"
    write(
        "roots.json",
        {
            "about": about,
            "leaves": [leaf_data(i).hex() for i in range(MAX_SIZE + 1)],
            "leaf_hashes": [leaf(i).hex() for i in range(MAX_SIZE + 1)],
            "roots": [mth(0, n).hex() for n in range(MAX_SIZE + 1)],
        },
    )
    sizes = range(1, MAX_SIZE + 1)
    write(
        "inclusion.json",
        {
            "about": about,
            "extra_hash": EXTRA,
            "cases": [inclusion_case(i, n) for n in sizes for i in range(n)],
        },
    )
    write(
        "consistency.json",
        {
            "about": about,
            "extra_hash": EXTRA,
            "cases": [consistency_case(m, n) for n in sizes for m in range(1, n + 1)],
        },
    )


if __name__ == "__main__":
    main()
