"""C2SP tlog-tiles from the store: a mirror rebuilds the tree from tiles alone."""

from __future__ import annotations

import pytest

from ledger.helpers import ORIGIN, entries, fixed_clock, key
from silkgate.errors import InputError, NotFoundError
from silkgate.ledger import TransparencyLog, leaf_hash
from silkgate.ledger.merkle import fold, node_hash, root_of
from silkgate.ledger.tiles import (
    TileRef,
    encode_index,
    parse_tile_path,
    read_tile,
    split_entry_bundle,
    tiles_for_size,
)
from silkgate.store import Store


def test_index_encoding() -> None:
    assert encode_index(0) == "000"
    assert encode_index(1234067) == "x001/x234/067"
    assert parse_tile_path("/tile/0/x001/x234/067").index == 1234067
    assert parse_tile_path("tile/2/001.p/17") == TileRef(2, 1, 17)
    assert parse_tile_path("tile/entries/x001/000.p/5") == TileRef(None, 1000, 5)
    assert TileRef(None, 1000, 5).path() == "tile/entries/x001/000.p/5"


@pytest.mark.parametrize(
    "path", ["tile/0/1", "tile/00/000", "tile/0/000.p/256", "tile/0/000.p/0", "tile/64/000"]
)
def test_bad_paths(path: str) -> None:
    with pytest.raises(InputError):
        parse_tile_path(path)


def test_tile_set_for_70000_matches_the_spec_example() -> None:
    refs = [r for r in tiles_for_size(70_000) if r.level is not None]
    assert sum(1 for r in refs if r.level == 0 and r.width == 256) == 273
    assert TileRef(0, 273, 112) in refs
    assert TileRef(1, 0, 256) in refs and TileRef(1, 1, 17) in refs
    assert TileRef(2, 0, 1) in refs and len(refs) == 277


def tile_root(level_hashes: list[bytes]) -> bytes:
    """MTH over 256 hashes of one tile (its own perfect subtree)."""
    return root_of(level_hashes)


def test_a_mirror_rebuilds_the_root_from_tiles(store: Store) -> None:
    log = TransparencyLog(store, ORIGIN, key("log"), fixed_clock)
    size = 256 * 256 + 3 * 256 + 9
    data = entries(0, size)
    for start in range(0, size, 5000):
        log.append(data[start : start + 5000])
    tiles = {r: read_tile(store, r, size) for r in tiles_for_size(size)}
    got = [e for r, t in tiles.items() if r.level is None for e in split_entry_bundle(t)]
    assert got == data
    level0 = b"".join(
        t for r, t in sorted(tiles.items(), key=lambda kv: _order(kv[0])) if r.level == 0
    )
    assert level0 == b"".join(leaf_hash(e) for e in data)
    full0 = [tiles[r] for r in sorted(tiles, key=_order) if r.level == 0 and r.width == 256]
    level1 = tiles[TileRef(1, 0, 256)] + tiles[TileRef(1, 1, 3)]
    for i, tile in enumerate(full0):
        assert level1[32 * i : 32 * i + 32] == tile_root(
            [tile[j : j + 32] for j in range(0, 8192, 32)]
        )
    assert tiles[TileRef(2, 0, 1)] == root_of([level1[j : j + 32] for j in range(0, 8192, 32)])
    # size = 65536 + 512 + 256 + 8 + 1: the root folds those perfect subtrees.
    l1 = tiles[TileRef(1, 1, 3)]
    l0 = tiles[TileRef(0, 259, 9)]
    parts = [
        tiles[TileRef(2, 0, 1)],
        node_hash(l1[0:32], l1[32:64]),
        l1[64:96],
        root_of([l0[j : j + 32] for j in range(0, 256, 32)]),
        l0[256:288],
    ]
    assert fold(parts) == log.root(size)


def _order(ref: TileRef) -> tuple[int, int]:
    return (-1 if ref.level is None else ref.level, ref.index)


def test_tiles_beyond_the_tree_are_not_found(store: Store) -> None:
    log = TransparencyLog(store, ORIGIN, key("log"), fixed_clock)
    log.append(entries(0, 300))
    read_tile(store, TileRef(0, 1, 44), 300)
    with pytest.raises(NotFoundError):
        read_tile(store, TileRef(0, 1, 45), 300)
    with pytest.raises(NotFoundError):
        read_tile(store, TileRef(0, 1, 256), 300)
    with pytest.raises(NotFoundError):
        read_tile(store, TileRef(1, 0, 2), 300)
