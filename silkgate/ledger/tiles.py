"""C2SP tlog-tiles: the log as static resources.

``tile/<L>/<N>[.p/<W>]`` is the concatenation of W (256 when full) hashes: hash i is the
perfect subtree over leaves ``[(N*256 + i) * 256**L, (N*256 + i + 1) * 256**L)``, which
is node ``(8*L, N*256 + i)`` in silkgate's node numbering. ``tile/entries/<N>[.p/<W>]`` is
the entries themselves, each prefixed by its length as a big-endian uint16. ``<N>`` is
written in 3-digit groups, all but the last prefixed by ``x`` (1234067 ->
``x001/x234/067``).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from silkgate.errors import InputError, NotFoundError
from silkgate.ledger.merkle import NodeKey
from silkgate.ledger.storage import LedgerStore, read_nodes

TILE_WIDTH = 256
TILE_HEIGHT = 8
_GROUP = re.compile(r"x\d{3}")


@dataclass(frozen=True)
class TileRef:
    level: int | None  # None for an entry bundle
    index: int
    width: int  # 256 for a full tile

    def path(self) -> str:
        kind = "entries" if self.level is None else str(self.level)
        partial = "" if self.width == TILE_WIDTH else f".p/{self.width}"
        return f"tile/{kind}/{encode_index(self.index)}{partial}"


def encode_index(n: int) -> str:
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def parse_tile_path(path: str) -> TileRef:
    """Parse ``tile/<L or entries>/<N>[.p/<W>]`` (a leading slash is allowed)."""
    parts = path.strip("/").split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise InputError(f"not a tile path: {path}")
    kind, rest = parts[1], parts[2:]
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        width = _decimal(rest[-1], path)
        rest = [*rest[:-2], rest[-2][:-2]]
        if not 1 <= width < TILE_WIDTH:
            raise InputError(f"partial tile width must be 1..255: {path}")
    if not re.fullmatch(r"\d{3}", rest[-1]) or not all(_GROUP.fullmatch(g) for g in rest[:-1]):
        raise InputError(f"tile index must be 3-digit groups, x-prefixed but the last: {path}")
    index = int("".join(g.lstrip("x") for g in rest))
    if kind == "entries":
        return TileRef(None, index, width)
    level = _decimal(kind, path)
    if level > 63:
        raise InputError(f"tile level must be 0..63: {path}")
    return TileRef(level, index, width)


def _decimal(text: str, path: str) -> int:
    if not text.isdigit() or (len(text) > 1 and text.startswith("0")):
        raise InputError(f"{text!r} is not a decimal without leading zeroes in {path}")
    return int(text)


def _check_available(ref: TileRef, tree_size: int) -> None:
    level = ref.level or 0
    available = tree_size >> (TILE_HEIGHT * level)  # complete hashes at this tile level
    if (ref.index * TILE_WIDTH + ref.width) > available:
        raise NotFoundError(f"{ref.path()} is beyond a tree of size {tree_size}")


def read_tile(store: LedgerStore, ref: TileRef, tree_size: int) -> bytes:
    """The bytes of a hash tile (level >= 0) of the tree of `tree_size` leaves."""
    if ref.level is None:
        return read_entry_bundle(store, ref, tree_size)
    _check_available(ref, tree_size)
    level = TILE_HEIGHT * ref.level
    keys: list[NodeKey] = [(level, ref.index * TILE_WIDTH + i) for i in range(ref.width)]
    nodes = read_nodes(store, keys)
    if len(nodes) != len(keys):
        raise NotFoundError(f"{ref.path()}: the store lacks some of its nodes")
    return b"".join(nodes[k] for k in keys)


def read_entry_bundle(store: LedgerStore, ref: TileRef, tree_size: int) -> bytes:
    _check_available(ref, tree_size)
    start = ref.index * TILE_WIDTH
    entries = store.ledger_entries(start, start + ref.width)
    if len(entries) != ref.width:
        raise NotFoundError(f"{ref.path()}: the store lacks some of its entries")
    return b"".join(_length_prefixed(e) for e in entries)


def _length_prefixed(entry: bytes) -> bytes:
    if len(entry) > 0xFFFF:
        raise InputError("an entry longer than 65535 bytes cannot go in an entry bundle")
    return struct.pack(">H", len(entry)) + entry


def split_entry_bundle(data: bytes) -> list[bytes]:
    """The entries of an entry bundle (for mirrors and tests)."""
    out, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise InputError("truncated entry bundle")
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        out.append(data[pos + 2 : pos + 2 + length])
        pos += 2 + length
        if pos > len(data):
            raise InputError("truncated entry bundle")
    return out


def tiles_for_size(tree_size: int) -> list[TileRef]:
    """Every hash tile and entry bundle a mirror of a tree of `tree_size` leaves fetches."""
    refs: list[TileRef] = []
    level = 0
    while (tree_size >> (TILE_HEIGHT * level)) > 0:
        count = tree_size >> (TILE_HEIGHT * level)
        refs += [TileRef(level, n, TILE_WIDTH) for n in range(count // TILE_WIDTH)]
        if count % TILE_WIDTH:
            refs.append(TileRef(level, count // TILE_WIDTH, count % TILE_WIDTH))
        level += 1
    leaf_tiles = [r for r in refs if r.level == 0]
    return refs + [TileRef(None, r.index, r.width) for r in leaf_tiles]
