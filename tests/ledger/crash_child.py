"""Child process for test_crash.py: appends to a SQLite-backed log until killed.

Usage: python crash_child.py DB_PATH SEED
Entry i is the bytes ``entry <i>``. Each batch (1 to 20 entries) is appended in its own
store transaction; once the commit has returned the child prints ``ack <last index>``.
Every few batches it signs a checkpoint and prints ``cp <size>``.
"""

from __future__ import annotations

import hashlib
import random
import sys
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.ledger import TransparencyLog
from silkgate.store import SqliteStore

ORIGIN = "crash.silkgate.test/log"


def log_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"crash log").digest())


def main(path: str, seed: int) -> None:
    rng = random.Random(seed)
    store = SqliteStore(path)
    log = TransparencyLog(store, ORIGIN, log_key(), lambda: datetime.now(UTC))
    while True:
        with store.transaction():
            start = log.size()
            count = rng.randint(1, 20)
            log.append([b"entry %d" % i for i in range(start, start + count)])
        print(f"ack {start + count - 1}", flush=True)
        if rng.random() < 0.3:
            print(f"cp {log.checkpoint().size}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
