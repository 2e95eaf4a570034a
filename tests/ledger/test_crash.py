"""kill -9 of a process appending to a SQLite-backed log, at random points, 50 times.

After each kill: every index the child acknowledged is stored with its content, the latest
checkpoint is signed by the log and produced by the stored leaves (verify_log recomputes
the whole tree), and the log can still sign a checkpoint consistent with it.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from ledger.crash_child import ORIGIN, log_key
from silkgate.ledger import TransparencyLog
from silkgate.store import SqliteStore

CHILD = Path(__file__).with_name("crash_child.py")
ROOT = Path(__file__).parents[2]
KILLS = 50


def run_until_killed(db: Path, seed: int, lines: int) -> tuple[int, int]:
    """Start the child, read `lines` lines, kill -9. Returns (highest ack, highest cp)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(db), str(seed)],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert child.stdout is not None
    acked, signed = -1, -1
    try:
        for _ in range(lines):
            kind, _, value = child.stdout.readline().partition(" ")
            assert kind in ("ack", "cp"), f"child said {kind!r}"
            if kind == "ack":
                acked = max(acked, int(value))
            else:
                signed = max(signed, int(value))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
    return acked, signed


def test_kill_minus_nine_never_loses_acked_leaves_or_breaks_checkpoints(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    rng = random.Random(20261128)
    acked_max = -1
    for round_ in range(KILLS):
        acked, signed = run_until_killed(db, round_, rng.randint(1, 12))
        acked_max = max(acked_max, acked)
        store = SqliteStore(db)
        try:
            log = TransparencyLog(store, ORIGIN, log_key())
            size = log.size()
            assert size > acked_max, f"round {round_}: acked {acked_max}, stored {size}"
            assert store.ledger_entries(acked_max, acked_max + 1) == [b"entry %d" % acked_max]
            report = log.verify_log()
            latest = log.latest_checkpoint()
            assert latest is not None or signed < 0
            if latest is not None:
                assert latest.size >= signed
                assert report.checkpoint_size == latest.size
        finally:
            store.close()
    store = SqliteStore(db)
    try:
        log = TransparencyLog(store, ORIGIN, log_key())
        entries = store.ledger_entries(0, log.size())
        assert entries == [b"entry %d" % i for i in range(len(entries))]
        after = log.checkpoint()
        assert after.size == len(entries)
        log.verify_log()
    finally:
        store.close()
