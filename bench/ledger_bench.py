"""Ledger benchmark: append throughput and inclusion-proof latency.

    python bench/ledger_bench.py                 # appends on memory and SQLite, proofs at 10M
    python bench/ledger_bench.py --big 1000000   # a smaller tree for the proof benchmark

Appends go through TransparencyLog.append in batches of 1000 entries, one store
transaction each (as the pipeline does). The big tree is built through the same append
path in batches of 100,000 entries (one transaction each) on SQLite; its build time is
printed as measured. Entries are ~100-byte canonical-JSON-like records.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.ledger import TransparencyLog, leaf_hash, verify_inclusion
from silkgate.store import MemoryStore, SqliteStore, Store

ORIGIN = "bench.silkgate.example/ledger"
KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"bench").digest())


def entry(i: int) -> bytes:
    return (b'{"batch":"b_%032x","decision":"allow","index":%d,"records":1000}' % (i, i)).ljust(
        100, b" "
    )


def append_rate(store: Store, total: int, batch: int = 1000) -> float:
    log = TransparencyLog(store, ORIGIN, KEY)
    base = log.size()
    started = time.perf_counter()
    for start in range(base, base + total, batch):
        entries = [entry(i) for i in range(start, start + batch)]
        with store.transaction():
            log.append(entries)
    return total / (time.perf_counter() - started)


def build(store: Store, size: int, batch: int = 100_000) -> float:
    log = TransparencyLog(store, ORIGIN, KEY)
    started = time.perf_counter()
    for start in range(log.size(), size, batch):
        entries = [entry(i) for i in range(start, min(size, start + batch))]
        with store.transaction():
            log.append(entries)
    return time.perf_counter() - started


def proof_times(log: TransparencyLog, size: int, samples: int) -> list[float]:
    root = log.root(size)
    step = max(1, size // samples)
    times = []
    for index in range(7, size, step):
        started = time.perf_counter()
        proof = log.inclusion_proof(index, size)
        times.append(time.perf_counter() - started)
        verify_inclusion(leaf_hash(entry(index)), index, size, proof, root)
    return times


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--appends", type=int, default=200_000, help="leaves per append run")
    parser.add_argument("--big", type=int, default=10_000_000, help="leaves in the proof tree")
    parser.add_argument("--samples", type=int, default=2000, help="inclusion proofs timed")
    args = parser.parse_args()
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        memory = MemoryStore()
        rows.append(
            (
                "append, memory (batches of 1000)",
                f"{append_rate(memory, args.appends):,.0f} leaves/s",
            )
        )
        sqlite = SqliteStore(Path(tmp) / "append.db")
        rows.append(
            (
                "append, SQLite (batches of 1000)",
                f"{append_rate(sqlite, args.appends):,.0f} leaves/s",
            )
        )
        sqlite.close()
        big = SqliteStore(Path(tmp) / "big.db")
        seconds = build(big, args.big)
        rows.append(
            (
                f"build {args.big:,} leaves, SQLite",
                f"{seconds:,.1f} s ({args.big / seconds:,.0f} leaves/s)",
            )
        )
        log = TransparencyLog(big, ORIGIN, KEY)
        times = sorted(proof_times(log, args.big, args.samples))
        rows.append(
            (f"inclusion proof at {args.big:,}, median", f"{statistics.median(times) * 1e3:.3f} ms")
        )
        rows.append(
            (
                f"inclusion proof at {args.big:,}, p99",
                f"{times[int(len(times) * 0.99)] * 1e3:.3f} ms",
            )
        )
        half = args.big // 2 + 1
        rows.append(
            (
                f"consistency proof {half:,} -> {args.big:,}",
                f"{timed(lambda: log.consistency_proof(half, args.big)) * 1e3:.3f} ms",
            )
        )
        rows.append(("checkpoint (sign + store)", f"{timed(log.checkpoint) * 1e3:.3f} ms"))
        big.close()
    width = max(len(name) for name, _ in rows)
    print(f"{'measure'.ljust(width)}  result")
    print(f"{'-' * width}  {'-' * 30}")
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")


if __name__ == "__main__":
    main()
