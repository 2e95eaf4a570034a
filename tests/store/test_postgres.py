"""What is particular to the PostgreSQL store (the ports' contracts run in contract/)."""

from __future__ import annotations

import psycopg
import pytest
from scale.servers import PostgresServer, fresh_database

from silkgate.errors import StoreError
from silkgate.store import LATEST_VERSION, open_store
from silkgate.store.migrations import Migration
from silkgate.store.postgres import PostgresStore, lock_key, redact
from silkgate.store.postgres_schema import PG_MIGRATIONS

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
