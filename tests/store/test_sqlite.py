"""SQLite-only behaviour: durability, crash safety, migrations, opening by URL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest

from silkgate.errors import ConfigError, StoreError
from silkgate.model import BatchResult, Decision, Participant
from silkgate.store import LATEST_VERSION, MemoryStore, PushEndpoint, SqliteStore, open_store
from silkgate.store._common import to_us
from silkgate.store.migrations import MIGRATIONS, Migration
from silkgate.store.rows import FACTS_PER_ROW

from .contract.builders import T0, fact

ROOT = Path(__file__).resolve().parents[2]


def participant(pid: str) -> Participant:
    return Participant(id=pid, name="Hanoi Carrier", jurisdiction="VN", roles=("importer",))


def versions(path: Path) -> list[int]:
    with closing(sqlite3.connect(path)) as conn, conn:
        return [r[0] for r in conn.execute("SELECT version FROM schema_version ORDER BY version")]


def test_wal_and_full_sync(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.db")
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_only_a_lone_outbox_delete_skips_the_fsync(tmp_path: Path) -> None:
    """Forgetting published messages need not be durable (they would be published again,
    ids deduplicate); every other commit stays FULL, even after a failed delete."""
    store = SqliteStore(tmp_path / "s.db")
    seen: list[str] = []
    store._conn.set_trace_callback(seen.append)
    for i in range(3):
        store.put_outbox("s", f"m{i}", b"x")
    store.delete_outbox([m.seq for m in store.take_outbox(2)])
    assert "PRAGMA synchronous=NORMAL" in seen
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert [m.message_id for m in store.take_outbox(5)] == ["m2"]
    seen.clear()
    with store.transaction():  # inside a caller's transaction: its durability applies
        store.delete_outbox([m.seq for m in store.take_outbox(5)])
    assert not any("synchronous" in sql for sql in seen)
    with pytest.raises(StoreError):
        store.delete_outbox([object()])  # type: ignore[list-item]
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    assert store.take_outbox(5) == []
    store.close()


def test_commits_survive_reopen_rollbacks_do_not(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    with store.transaction():
        store.put_participant(participant("p_kept"))
        store.ledger_append([b"a", b"b"], {(0, 0): b"h" * 32})
    with pytest.raises(RuntimeError), store.transaction():
        store.put_participant(participant("p_lost"))
        raise RuntimeError("abort")
    store.close()
    again = SqliteStore(path)
    assert [p.id for p in again.list_participants()] == ["p_kept"]
    assert again.ledger_entries(0, 5) == [b"a", b"b"]
    again.close()


def test_two_connections_on_one_file_count_exactly(tmp_path: Path) -> None:
    """Two stores on the same file (as two processes would) serialize their transactions."""
    path = tmp_path / "s.db"
    stores = [SqliteStore(path), SqliteStore(path)]

    def work(store: SqliteStore, base: int) -> None:
        for r in range(20):
            with store.transaction():
                hashes = [b"%d" % (base + r * 5 + i) for i in range(10)]  # overlaps next round
                store.add_subjects("p_x", 2026, "pi", hashes)
                store.ledger_append([b"x"], {})

    threads = [threading.Thread(target=work, args=(s, i * 50)) for i, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = {i * 50 + r * 5 + j for i in range(2) for r in range(20) for j in range(10)}
    assert stores[0].subject_count("p_x", 2026, "pi") == len(expected)
    assert stores[1].ledger_size() == 40
    for s in stores:
        s.close()


def test_sigkill_mid_transaction_leaves_only_whole_transactions(tmp_path: Path) -> None:
    path, rows = tmp_path / "crash.db", 7
    SqliteStore(path).close()  # migrate before the child starts
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("crash_writer.py")), str(path), str(rows)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert child.stdout is not None
    committed: list[int] = []
    for line in child.stdout:  # kill it while it keeps writing
        committed.append(int(line.split()[1]))
        if len(committed) == 25:
            break
    os.kill(child.pid, signal.SIGKILL)
    committed += [int(line.split()[1]) for line in child.stdout]  # printed before the kill
    child.wait()
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    store = SqliteStore(path)
    size = store.ledger_size()
    assert size % rows == 0 and size >= len(committed) * rows
    assert store.subject_count("p_crash", 2026, "pi") == size
    assert len(store.take_outbox(limit=100_000)) == size
    entries = store.ledger_entries(0, size)
    for txn in committed:
        assert entries[txn * rows : (txn + 1) * rows] == [
            f"txn {txn} row {j}".encode() for j in range(rows)
        ]
    store.close()


# -- migrations -----------------------------------------------------------------------


def test_fresh_database_gets_every_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    store.put_participant(participant("p_1"))
    store.close()
    again = SqliteStore(path)  # reopening applies nothing twice and keeps the data
    assert again.schema_version() == LATEST_VERSION == MemoryStore().schema_version()
    assert [p.id for p in again.list_participants()] == ["p_1"]
    again.close()
    assert versions(path) == list(range(1, LATEST_VERSION + 1))


def test_upgrade_applies_new_steps_in_order(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    first = SqliteStore(path)
    first.put_participant(participant("p_1"))
    first.close()
    step = Migration(
        LATEST_VERSION + 1,
        "test: extra",
        ("CREATE TABLE extra (x INTEGER)", "INSERT INTO extra VALUES (42)"),
    )
    upgraded = SqliteStore(path, migrations=[*MIGRATIONS, step])
    assert upgraded.schema_version() == LATEST_VERSION + 1
    assert upgraded.get_participant("p_1").id == "p_1"
    upgraded.close()
    with closing(sqlite3.connect(path)) as conn, conn:
        assert conn.execute("SELECT x FROM extra").fetchall() == [(42,)]


def test_failed_step_leaves_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    broken = Migration(LATEST_VERSION + 1, "broken", ("CREATE TABLE half (x)", "NOT SQL"))
    with pytest.raises(StoreError, match="syntax error"):
        SqliteStore(path, migrations=[*MIGRATIONS, broken])
    assert versions(path) == list(range(1, LATEST_VERSION + 1))
    with closing(sqlite3.connect(path)) as conn, conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in tables


def test_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute(
            "INSERT INTO schema_version VALUES (?, 'from the future', '2030-01-01')",
            (LATEST_VERSION + 1,),
        )
    with pytest.raises(StoreError, match=f"version {LATEST_VERSION + 1} is newer"):
        SqliteStore(path)


def test_migration_list_must_be_numbered_in_order(tmp_path: Path) -> None:
    skipping = [*MIGRATIONS, Migration(LATEST_VERSION + 2, "gap", ())]
    with pytest.raises(StoreError, match="out of order"):
        SqliteStore(tmp_path / "s.db", migrations=skipping)


# -- open_store -----------------------------------------------------------------------


def test_open_store_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(open_store("memory:"), MemoryStore)
    absolute = open_store(f"sqlite:///{tmp_path / 'abs.db'}")
    assert isinstance(absolute, SqliteStore) and absolute.path == str(tmp_path / "abs.db")
    absolute.close()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    relative = open_store("sqlite:///data/rel.db")
    assert isinstance(relative, SqliteStore)
    relative.close()
    assert (tmp_path / "data" / "rel.db").exists()
    bare = open_store(str(tmp_path / "bare.db"))
    assert isinstance(bare, SqliteStore) and bare.schema_version() == LATEST_VERSION
    bare.close()


@pytest.mark.parametrize("url", ["mysql://db/x", "sqlite:///", "", "redis:"])
def test_open_store_refuses_unknown_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_missing_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        SqliteStore(tmp_path / "nope" / "s.db")


def test_unreadable_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError, match=str(path)):
        SqliteStore(path)


def test_two_connections_share_nonces_and_push_endpoints(tmp_path: Path) -> None:
    """Two processes on one file see each other's nonces (replay protection across API
    workers) and registrations."""
    first, second = SqliteStore(tmp_path / "s.db"), SqliteStore(tmp_path / "s.db")
    try:
        until = datetime(2026, 6, 1, tzinfo=UTC)
        assert first.remember_nonce("n", until) is True
        assert second.remember_nonce("n", until) is False
        hook = PushEndpoint(importer="p_im", url="https://h.example/", created_at=until)
        first.put_push_endpoint(hook)
        assert second.get_push_endpoint("p_im") == hook
    finally:
        first.close()
        second.close()


def _result_with_shared_decisions() -> BatchResult:
    allow = Decision(outcome="allow", rule_ids=("cn.art3.no-pi",), policy_version="v1")
    hold = Decision(outcome="hold", rule_ids=("cn.art8.sensitive",), policy_version="v1")
    return BatchResult(
        batch_id="b_old",
        exporter="cn-x",
        importer="vn-y",
        product="logistics.waybill",
        purpose="logistics_operations",
        records=4,
        outcomes={"allow": 3, "allow_transformed": 0, "hold": 1, "deny": 0},
        decisions=(allow, hold, allow, allow),
        envelope_id="env_1",
        held_id="env_2",
        ledger_index=0,
        policy_version="v1",
        committed_at=datetime(2026, 6, 1, tzinfo=UTC),
    )


def test_batch_results_in_the_earlier_full_form_still_decode(tmp_path: Path) -> None:
    """Rows written before decisions were stored compactly carry every decision in full."""
    result = _result_with_shared_decisions()
    store = SqliteStore(tmp_path / "s.db")
    store.put_batch_result(result)
    assert store.get_batch_result("b_old") == result  # the compact form round-trips
    store.close()
    with closing(sqlite3.connect(tmp_path / "s.db")) as conn, conn:
        conn.execute(
            "UPDATE batch_results SET data = ? WHERE batch_id = ?",
            (msgspec.msgpack.encode(result), "b_old"),
        )
    reopened = SqliteStore(tmp_path / "s.db")
    try:
        assert reopened.get_batch_result("b_old") == result
        assert reopened.list_batch_results() == [result]
    finally:
        reopened.close()


def test_decision_facts_in_the_earlier_whole_fact_form_still_decode(tmp_path: Path) -> None:
    """Rows written before facts were stored column by column hold a msgpack array of whole
    facts; they read back as before, next to rows in the new form."""
    old = [fact("b_old", i, T0) for i in range(3)]
    new = [fact("b_new", i, T0 + timedelta(minutes=1)) for i in range(2)]
    SqliteStore(tmp_path / "s.db").close()
    with closing(sqlite3.connect(tmp_path / "s.db")) as conn, conn:
        conn.execute(
            "INSERT INTO decision_facts (time_us, data) VALUES (?, ?)",
            (to_us(T0), msgspec.msgpack.encode(old)),
        )
    store = SqliteStore(tmp_path / "s.db")
    try:
        store.put_facts(new)
        got = list(store.iter_facts())
        assert [msgspec.structs.replace(f, seq=0) for f in got] == old + new
        assert [f.seq for f in got] == [
            FACTS_PER_ROW, FACTS_PER_ROW + 1, FACTS_PER_ROW + 2, 2 * FACTS_PER_ROW,
            2 * FACTS_PER_ROW + 1,
        ]  # fmt: skip
        raw = store._conn.execute("SELECT data FROM decision_facts WHERE seq = 2").fetchone()
        assert msgspec.msgpack.decode(raw[0])["same"]["batch_id"] == "b_new"  # the new form
    finally:
        store.close()
