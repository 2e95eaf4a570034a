"""RFC 9162 Merkle tree math: pure functions over hashlib, no I/O.

Trees are addressed by *perfect subtrees*: ``(level, index)`` is the subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``; level 0 holds leaf hashes. Any subtree
that RFC 9162's MTH recursion visits is either perfect or the right edge of a tree, and a
right edge ``[start, end)`` is the right-folded hash of its decomposition into perfect
subtrees (largest first). Proof generation therefore needs only O(log n) node hashes,
which the caller supplies through a :data:`NodeReader` callback.

Verification functions return nothing and raise :class:`LedgerVerificationError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence

from silkgate.errors import LedgerVerificationError

NodeKey = tuple[int, int]  # (level, index) of a perfect subtree
NodeReader = Callable[[Sequence[NodeKey]], Mapping[NodeKey, bytes]]
Range = tuple[int, int]  # [start, end) of leaves

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- roots of in-memory lists ---------------------------------------------------------


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes (the empty tree hashes to SHA-256 of nothing)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    layer = list(leaf_hashes)
    while len(layer) > 1:
        paired = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
        if len(layer) % 2:
            paired.append(layer[-1])
        layer = paired
    return layer[0]


# -- perfect-subtree decomposition ---------------------------------------------------


def range_keys(start: int, end: int) -> list[NodeKey]:
    """Perfect subtrees covering [start, end), left to right, each as large as possible.

    For the ranges MTH visits (start aligned to a power of two >= end - start) this is
    exactly MTH's own split, so folding the hashes from the right yields MTH(D[start:end]).
    """
    keys: list[NodeKey] = []
    while start < end:
        level = (end - start).bit_length() - 1
        if start:
            level = min(level, (start & -start).bit_length() - 1)
        keys.append((level, start >> level))
        start += 1 << level
    return keys


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold of subtree hashes: h0 . (h1 . (... . hk))."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def _read_all(read_nodes: NodeReader, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
    wanted = list(dict.fromkeys(keys))
    found = read_nodes(wanted)
    missing = [k for k in wanted if k not in found]
    if missing:
        raise LedgerVerificationError(f"the tree lacks node hashes {missing[:4]}")
    return found


def _hash_ranges(ranges: Sequence[Range], read_nodes: NodeReader) -> list[bytes]:
    per_range = [range_keys(s, e) for s, e in ranges]
    nodes = _read_all(read_nodes, [k for keys in per_range for k in keys])
    return [fold([nodes[k] for k in keys]) for keys in per_range]


def root_from_nodes(size: int, read_nodes: NodeReader) -> bytes:
    """MTH of the first `size` leaves from O(log size) perfect-subtree hashes."""
    if size == 0:
        return EMPTY_ROOT
    return _hash_ranges([(0, size)], read_nodes)[0]


# -- proofs as lists of ranges (RFC 9162 2.1.3.1 and 2.1.4.1) --------------------------


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtree ranges whose hashes form PATH(index, D[0:size]), leaf side first."""
    if not 0 <= index < size:
        raise LedgerVerificationError(f"index {index} is outside a tree of size {size}")
    ranges: list[Range] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            lo = lo + k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[Range]:
    """The subtree ranges whose hashes form PROOF(size1, D[0:size2])."""
    if not 0 < size1 <= size2:
        raise LedgerVerificationError(
            f"a consistency proof needs 0 < size1 <= size2, got {size1} and {size2}"
        )
    ranges: list[Range] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            ranges.append((lo + k, hi))
            hi = lo + k
        else:
            ranges.append((lo, lo + k))
            m -= k
            lo += k
            complete = False
    if not complete:
        ranges.append((lo, hi))
    ranges.reverse()
    return ranges


def inclusion_proof(index: int, size: int, read_nodes: NodeReader) -> list[bytes]:
    return _hash_ranges(inclusion_ranges(index, size), read_nodes)


def consistency_proof(size1: int, size2: int, read_nodes: NodeReader) -> list[bytes]:
    return _hash_ranges(consistency_ranges(size1, size2), read_nodes)


# -- verification (RFC 9162 2.1.3.2 and 2.1.4.2) ---------------------------------------


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(hashes):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise LedgerVerificationError(f"{what} element {i} is not a {HASH_SIZE}-byte hash")


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that `leaf_hash` is leaf `index` of the tree of `size` leaves with `root`."""
    _check_hashes("proof", proof)
    _check_hashes("leaf hash and root", [leaf_hash, root])
    if not 0 <= index < size:
        raise LedgerVerificationError(f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise LedgerVerificationError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise LedgerVerificationError("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise LedgerVerificationError(
            f"inclusion proof for index {index} does not lead to the root of size {size}"
        )


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    """Check that the tree of `size2` leaves with `root2` extends the one with `root1`."""
    _check_hashes("proof", proof)
    _check_hashes("roots", [root1, root2])
    if not 0 < size1 <= size2:
        raise LedgerVerificationError(
            f"a consistency proof needs 0 < size1 <= size2, got {size1} and {size2}"
        )
    if size1 == size2:
        if proof:
            raise LedgerVerificationError("a consistency proof between equal sizes is empty")
        if root1 != root2:
            raise LedgerVerificationError(f"two different roots for tree size {size1}")
        return
    _verify_consistency_path(size1, size2, proof, root1, root2)


def _verify_consistency_path(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> None:
    path = list(proof)
    if not path:
        raise LedgerVerificationError("empty consistency proof between different sizes")
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise LedgerVerificationError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise LedgerVerificationError("consistency proof is too short")
    if fr != root1:
        raise LedgerVerificationError(
            f"consistency proof does not lead to the root of size {size1}"
        )
    if sr != root2:
        raise LedgerVerificationError(
            f"consistency proof does not lead to the root of size {size2}"
        )


# -- appending ----------------------------------------------------------------------


def right_edge_keys(old_size: int, new_size: int) -> list[NodeKey]:
    """Old nodes that appending leaves [old_size, new_size) pairs with: at most one per level."""
    keys: list[NodeKey] = []
    level = 0
    while (new_size >> level) > (old_size >> level):
        if (old_size >> level) & 1:
            keys.append((level, (old_size >> level) - 1))
        level += 1
    return keys


def new_nodes(
    old_size: int,
    new_leaf_hashes: Sequence[bytes],
    read_nodes: NodeReader,
    *,
    min_level: int = 0,
) -> dict[NodeKey, bytes]:
    """Every perfect-subtree hash completed by appending `new_leaf_hashes` to a tree of
    `old_size` leaves (levels below `min_level` left out). Reads only right-edge nodes."""
    new_size = old_size + len(new_leaf_hashes)
    old = _read_all(read_nodes, right_edge_keys(old_size, new_size))
    out: dict[NodeKey, bytes] = {}
    layer, start, level = list(new_leaf_hashes), old_size, 0
    while layer:
        if level >= min_level:
            out.update(((level, start + i), h) for i, h in enumerate(layer))
        if start & 1:
            layer.insert(0, old[(level, start - 1)])
            start -= 1
        layer = [node_hash(layer[i], layer[i + 1]) for i in range(0, len(layer) - 1, 2)]
        start >>= 1
        level += 1
    return out


def compact_range_keys(size: int) -> list[NodeKey]:
    """The perfect subtrees whose hashes determine the tree of `size` leaves."""
    return range_keys(0, size)
