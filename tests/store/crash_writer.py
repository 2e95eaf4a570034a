"""Child process for test_sqlite.py's crash test: commits transactions until killed.

Usage: python crash_writer.py DB_PATH ROWS_PER_TRANSACTION
Each transaction writes ROWS ledger entries, ROWS new subjects and ROWS outbox messages, one
call at a time, then prints "committed <n>" once the commit has returned.
"""

from __future__ import annotations

import hashlib
import sys

from silkgate.store import SqliteStore


def main(path: str, rows: int) -> None:
    store = SqliteStore(path)
    txn = 0
    while True:
        with store.transaction():
            for j in range(rows):
                store.ledger_append([f"txn {txn} row {j}".encode()], {})
                digest = hashlib.sha256(f"{txn}/{j}".encode()).digest()
                store.add_subjects("p_crash", 2026, "pi", [digest])
                store.put_outbox("crash", f"m_{txn}_{j}", b"")
        print(f"committed {txn}", flush=True)
        txn += 1


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
