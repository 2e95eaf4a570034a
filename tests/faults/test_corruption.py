"""A corrupted database is detected and never served as valid: `serve` verifies the whole
ledger (every node recomputed from the entries, the latest checkpoint's signature and root)
before it answers anything, and refuses to start on a mismatch; a page SQLite cannot read
is refused the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from api.cast import PRODUCT, PURPOSE, serve_cast, waybill

from silkgate.api.app import create_app
from silkgate.errors import SilkgateError


def _hub_with_batches(tmp_path: Path) -> tuple[Path, list[str]]:
    with serve_cast(tmp_path) as env:
        ids = []
        for n in range(20):
            result = env.clients["cn-exporter"].submit_batch(
                "vn-importer", PRODUCT, [waybill(n)], purpose=PURPOSE
            )
            ids.append(result.batch_id)
        env.hub.log.checkpoint()
        data = env.hub.data_dir
    return data, ids


def _checkpoint_wal(data: Path) -> None:
    import sqlite3

    with sqlite3.connect(data / "silkgate.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def test_a_flipped_byte_in_a_ledger_entry_stops_the_hub_from_serving(tmp_path: Path) -> None:
    data, ids = _hub_with_batches(tmp_path)
    _checkpoint_wal(data)
    db = data / "silkgate.db"
    raw = bytearray(db.read_bytes())
    needle = ids[7].encode()
    found = [i for i in range(len(raw)) if raw.startswith(needle, i)]
    assert found, "the batch id is not in the database file"
    for at in found:  # every copy: the entry in the ledger and the batch row
        raw[at + len(needle) - 1] ^= 0x01
    db.write_bytes(bytes(raw))
    with pytest.raises(SilkgateError, match="ledger"):
        create_app(data)


def test_a_garbage_page_stops_the_hub_from_serving(tmp_path: Path) -> None:
    data, _ = _hub_with_batches(tmp_path)
    _checkpoint_wal(data)
    db = data / "silkgate.db"
    raw = bytearray(db.read_bytes())
    page = 4096
    assert len(raw) > 6 * page
    middle = (len(raw) // page // 2) * page
    raw[middle : middle + page] = bytes((i * 37 + 11) % 256 for i in range(page))
    db.write_bytes(bytes(raw))
    with pytest.raises(SilkgateError):
        create_app(data)
