"""What is particular to the PostgreSQL store (the ports' contracts run in contract/)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import msgspec
import psycopg
import pytest
from scale.servers import PostgresServer, fresh_database

from silkgate.errors import StoreError
from silkgate.store import LATEST_VERSION, open_store
from silkgate.store._common import to_us
from silkgate.store.migrations import Migration
from silkgate.store.postgres import PostgresStore, lock_key, redact
from silkgate.store.postgres_schema import PG_MIGRATIONS
from silkgate.store.rows import FACTS_PER_ROW

from .contract.builders import T0, agreement, fact, filing, participant

FUTURE = Migration(LATEST_VERSION + 1, "a step this database has not had", ("SELECT 1",))


def test_open_store_takes_postgres_urls(postgres_server: PostgresServer) -> None:
    for url in (postgres_server.url, postgres_server.url.replace("postgresql:", "postgres:")):
        made = open_store(url)
        assert isinstance(made, PostgresStore)
        assert made.schema_version() == LATEST_VERSION
        made.close()


def test_second_open_applies_nothing_and_refuses_a_newer_schema(
    postgres_server: PostgresServer,
) -> None:
    first = PostgresStore(postgres_server.url)
    second = PostgresStore(postgres_server.url)  # already migrated: a no-op
    assert second.schema_version() == LATEST_VERSION
    second.close()
    with pytest.raises(StoreError, match="newer than this silkgate supports"):
        PostgresStore(postgres_server.url, migrations=PG_MIGRATIONS[:-1])
    with pytest.raises(StoreError, match="run `silkgate migrate`"):
        PostgresStore(
            postgres_server.url, migrations=(*PG_MIGRATIONS, FUTURE), apply_migrations=False
        )
    first.close()


def test_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        PostgresStore("postgresql://u:secret@127.0.0.1:1/x", timeout=1.0)
    assert "secret" not in str(caught.value)
    assert redact("postgresql://u:secret@h/x") == "postgresql://u@h/x"


def test_connections_dropped_by_a_restart_are_replaced(postgres_server: PostgresServer) -> None:
    made = PostgresStore(fresh_database(postgres_server, "restart"), min_size=3)
    try:
        with made.transaction():  # three pooled connections, idle afterwards
            made.ledger_append([b"a"], {})
        assert made.ledger_size() == 1
        postgres_server.restart()
        assert made.ledger_size() == 1  # a read is tried again on a fresh connection
        postgres_server.restart()
        with made.transaction():  # BEGIN on a dropped connection: another one is taken
            made.ledger_append([b"b"], {})
        assert made.ledger_entries(0, 5) == [b"a", b"b"]
    finally:
        made.close()


def test_a_lock_released_by_a_rolled_back_savepoint_is_taken_again(
    postgres_server: PostgresServer,
) -> None:
    url = fresh_database(postgres_server, "locks")
    made = PostgresStore(url)
    key = lock_key("counter", "p_ex", 2026)

    def free_elsewhere() -> bool:
        with psycopg.connect(url, autocommit=True) as other:
            row = other.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            got = bool(row and row[0])
            if got:
                other.execute("SELECT pg_advisory_unlock(%s)", (key,))
            return got

    try:
        with made.transaction():
            with pytest.raises(RuntimeError), made.transaction():
                made.known_subjects("p_ex", 2026, "pi", [b"h"])
                assert not free_elsewhere()  # held inside the savepoint
                raise RuntimeError
            assert free_elsewhere()  # released with the savepoint
            made.known_subjects("p_ex", 2026, "pi", [b"h"])
            assert not free_elsewhere()  # taken again, not skipped as already held
        assert free_elsewhere()  # released at commit
    finally:
        made.close()


def test_facts_are_numbered_in_commit_order_not_insert_order(
    postgres_server: PostgresServer,
) -> None:
    """Two nodes: A writes its facts first, B writes its facts, appends its leaf and commits,
    then A appends and commits. Ledger order is B, A; the facts must read B, A too, and
    a reader that had paged past B's facts before A committed must still find A's."""
    url = fresh_database(postgres_server, "factorder")
    node_a, node_b = PostgresStore(url), PostgresStore(url)
    a_wrote, b_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with node_a.transaction():
                node_a.put_facts([fact("b_a", 0, T0), fact("b_a", 1, T0)])
                a_wrote.set()
                assert b_done.wait(30)
                node_a.ledger_append([b"leaf-a"], {})
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        thread = threading.Thread(target=first)
        thread.start()
        assert a_wrote.wait(30)
        with node_b.transaction():
            node_b.put_facts([fact("b_b", 0, T0 + timedelta(seconds=1))])
            node_b.ledger_append([b"leaf-b"], {})
        seen = [(f.seq, f.batch_id) for f in node_b.iter_facts()]
        assert [b for _, b in seen] == ["b_b"]  # A is not committed yet
        b_done.set()
        thread.join(30)
        assert not errors, errors
        assert node_b.ledger_entries(0, 2) == [b"leaf-b", b"leaf-a"]
        facts = list(node_a.iter_facts())
        assert [(f.batch_id, f.record) for f in facts] == [("b_b", 0), ("b_a", 0), ("b_a", 1)]
        # A reader resuming after the last seq it saw finds A's facts.
        assert all(f.seq > seen[-1][0] for f in facts if f.batch_id == "b_a")
    finally:
        b_done.set()
        node_a.close()
        node_b.close()


def test_facts_written_outside_a_transaction_or_rolled_back_keep_the_order(
    postgres_server: PostgresServer,
) -> None:
    url = fresh_database(postgres_server, "factorder2")
    made = PostgresStore(url)
    try:
        made.put_facts([fact("b_1", 0, T0)])  # its own transaction
        with made.transaction():
            with pytest.raises(RuntimeError), made.transaction():
                made.put_facts([fact("b_gone", 0, T0)])
                raise RuntimeError
            made.ledger_append([b"x"], {})  # the ledger lock is held from here
            made.put_facts([fact("b_2", 0, T0)])
            made.put_facts([fact("b_3", 0, T0)])
        first = max(f.seq for f in made.iter_facts())
        with made.transaction():  # two stored rows (two times), renumbered together
            made.put_facts([fact("b_4", 0, T0), fact("b_4", 1, T0 + timedelta(seconds=1))])
            made.put_facts([fact("b_5", 0, T0)])
        got = list(made.iter_facts())
        assert [(f.batch_id, f.record) for f in got] == [
            ("b_1", 0), ("b_2", 0), ("b_3", 0), ("b_4", 0), ("b_4", 1), ("b_5", 0),
        ]  # fmt: skip
        assert [f.seq for f in got] == sorted({f.seq for f in got}) and got[3].seq > first
    finally:
        made.close()


def test_decision_facts_in_the_earlier_whole_fact_form_still_decode(
    postgres_server: PostgresServer,
) -> None:
    """A row written before facts were stored column by column (a msgpack array of whole
    facts) reads back as before, next to a row in the new form."""
    url = fresh_database(postgres_server, "factsold")
    made = PostgresStore(url)
    try:
        old = [fact("b_old", i, T0) for i in range(3)]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO decision_facts (time_us, data) VALUES (%s, %s)",
                (to_us(T0), msgspec.msgpack.encode(old)),
            )
        new = [fact("b_new", i, T0 + timedelta(minutes=1)) for i in range(2)]
        made.put_facts(new)
        got = list(made.iter_facts())
        assert [msgspec.structs.replace(f, seq=0) for f in got] == old + new
        assert [f.seq % FACTS_PER_ROW for f in got] == [0, 1, 2, 0, 1]
        assert got[0].seq // FACTS_PER_ROW < got[3].seq // FACTS_PER_ROW
    finally:
        made.close()


def test_shared_document_reads_wait_only_for_writers(postgres_server: PostgresServer) -> None:
    """Every batch reads the sandbox generation shared: two batches in flight do not wait
    for each other, and a transaction reading it to write waits for both."""
    url = fresh_database(postgres_server, "shareddoc")
    stores = [PostgresStore(url) for _ in range(3)]
    stores[0].put_sandbox_doc("meta", "generation", b"1")
    readers_in, release = threading.Barrier(3), threading.Event()
    writer_got: list[bytes | None] = []

    def reader(store: PostgresStore) -> None:
        with store.transaction():
            assert store.get_sandbox_doc("meta", "generation", shared=True) == b"1"
            readers_in.wait(10)  # both readers hold it at once
            release.wait(10)

    def writer() -> None:
        with stores[2].transaction():
            writer_got.append(stores[2].get_sandbox_doc("meta", "generation"))
            stores[2].put_sandbox_doc("meta", "generation", b"2")

    try:
        threads = [threading.Thread(target=reader, args=(s,)) for s in stores[:2]]
        for t in threads:
            t.start()
        readers_in.wait(10)  # raises BrokenBarrierError if a reader waited for the other
        blocked = threading.Thread(target=writer)
        blocked.start()
        blocked.join(0.5)
        assert blocked.is_alive() and writer_got == []  # waits for the readers
        release.set()
        for t in [*threads, blocked]:
            t.join(10)
        assert writer_got == [b"1"]
        assert stores[0].get_sandbox_doc("meta", "generation", shared=True) == b"2"
    finally:
        release.set()
        for s in stores:
            s.close()


def _read_participant(store: PostgresStore) -> object:
    return store.get_participant("p_ex")


def _read_agreements(store: PostgresStore) -> object:
    return store.list_agreements(exporter="p_ex", importer="p_im")


def _read_filings(store: PostgresStore) -> object:
    return store.list_filings(exporter="p_ex")


@pytest.mark.parametrize(
    ("read", "change"),
    [
        (_read_participant, lambda s: s.put_participant(participant("p_ex", name="closed"))),
        (
            _read_agreements,
            lambda s: s.put_agreement(
                msgspec.structs.replace(agreement("a_1"), valid_until=T0.date())
            ),
        ),
        (
            _read_filings,
            lambda s: s.put_filing(msgspec.structs.replace(filing("f_1"), valid_until=T0.date())),
        ),
    ],
    ids=["participant deactivated", "agreement ended", "filing withdrawn"],
)
def test_a_registry_change_waits_for_a_transaction_that_read_the_row(
    postgres_server: PostgresServer, read: Any, change: Any
) -> None:
    """A batch's transaction reads its parties, agreement and filings; a change to a row it
    read commits only after the batch does, so the batch is decided with the registry as it
    stands when it commits (two nodes, as two hub processes)."""
    url = fresh_database(postgres_server, "registrylock")
    batch_node, registry_node = PostgresStore(url), PostgresStore(url)
    registry_node.put_participant(participant("p_ex"))
    registry_node.put_agreement(agreement("a_1"))
    registry_node.put_filing(filing("f_1"))
    before = read(registry_node)
    read_done, commit, changed = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def batch() -> None:
        try:
            with batch_node.transaction():
                read(batch_node)
                read_done.set()
                assert commit.wait(30)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def registry() -> None:
        try:
            change(registry_node)
            changed.set()
        except BaseException as exc:  # reported below
            errors.append(exc)

    try:
        batch_thread = threading.Thread(target=batch, daemon=True)
        batch_thread.start()
        assert read_done.wait(30)
        registry_thread = threading.Thread(target=registry, daemon=True)
        registry_thread.start()
        assert not changed.wait(0.5)  # waits while the batch's transaction is open
        commit.set()
        assert changed.wait(30), errors
        batch_thread.join(30)
        registry_thread.join(30)
        assert not errors, errors
        assert read(registry_node) != before  # the change, committed after the batch
    finally:
        batch_node.close()
        registry_node.close()


def test_a_registry_read_outside_a_transaction_locks_nothing(
    postgres_server: PostgresServer,
) -> None:
    url = fresh_database(postgres_server, "registrynolock")
    made = PostgresStore(url)
    try:
        made.put_participant(participant("p_ex"))
        made.get_participant("p_ex")  # autocommit: no lock outlives the statement
        made.put_participant(participant("p_ex", name="renamed"))
        assert made.get_participant("p_ex").name == "renamed"
    finally:
        made.close()


def test_two_transactions_changing_a_participant_they_both_read_fail_one_with_retry(
    postgres_server: PostgresServer,
) -> None:
    """Both read the row (FOR SHARE), then both change it: PostgreSQL breaks the deadlock by
    failing one, which is a StoreError saying to retry; the other commits."""
    url = fresh_database(postgres_server, "registrydeadlock")
    nodes = [PostgresStore(url), PostgresStore(url)]
    nodes[0].put_participant(participant("p_ex"))
    both_read = threading.Barrier(2, timeout=30)
    outcome: dict[int, BaseException | None] = {}

    def update(n: int) -> None:
        try:
            with nodes[n].transaction():
                nodes[n].get_participant("p_ex")
                both_read.wait()
                nodes[n].put_participant(participant("p_ex", name=f"renamed {n}"))
            outcome[n] = None
        except BaseException as exc:  # reported below
            outcome[n] = exc

    try:
        threads = [threading.Thread(target=update, args=(n,), daemon=True) for n in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        failed = [exc for exc in outcome.values() if exc is not None]
        assert len(outcome) == 2 and len(failed) == 1, outcome
        assert isinstance(failed[0], StoreError) and "retry" in str(failed[0])
        winner = next(n for n, exc in outcome.items() if exc is None)
        assert nodes[0].get_participant("p_ex").name == f"renamed {winner}"
    finally:
        for node in nodes:
            node.close()
