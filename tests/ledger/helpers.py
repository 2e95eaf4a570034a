"""Shared test helpers: deterministic keys and a bare ledger store (no transactions)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.errors import NotFoundError
from silkgate.ledger.merkle import NodeKey

ORIGIN = "hub.silkgate.test/ledger"
FIXED_TIME = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED_TIME


def key(seed: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def entries(start: int, count: int) -> list[bytes]:
    return [b'{"n":%d}' % i for i in range(start, start + count)]


class BareLedgerStore:
    """Only the ledger methods of the Store protocol, over dicts."""

    def __init__(self) -> None:
        self.entries: list[bytes] = []
        self.nodes: dict[NodeKey, bytes] = {}
        self.checkpoints: dict[int, bytes] = {}

    def ledger_size(self) -> int:
        return len(self.entries)

    def ledger_append(self, entries: Sequence[bytes], nodes: Mapping[NodeKey, bytes]) -> int:
        first = len(self.entries)
        self.entries.extend(entries)
        self.nodes.update(nodes)
        return first

    def ledger_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        return {k: self.nodes[k] for k in keys if k in self.nodes}

    def ledger_entries(self, start: int, end: int) -> list[bytes]:
        return self.entries[start:end]

    def put_checkpoint(self, size: int, note: bytes) -> None:
        self.checkpoints[size] = note

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        if not self.checkpoints:
            return None
        size = max(self.checkpoints)
        return size, self.checkpoints[size]

    def get_checkpoint(self, size: int) -> bytes:
        if size not in self.checkpoints:
            raise NotFoundError(f"no checkpoint of size {size}")
        return self.checkpoints[size]
