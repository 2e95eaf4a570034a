"""`silkgate migrate` on PostgreSQL and SQLite; `silkgate worker` refuses bad options.
(The worker's real run is in test_faults.py, as separate processes.)"""

from __future__ import annotations

from pathlib import Path

import orjson
import psycopg
from typer.testing import CliRunner

from scale.hubs import make_data_dir
from scale.servers import PostgresServer, fresh_database
from silkgate.cli import app
from silkgate.store import LATEST_VERSION

runner = CliRunner()


def test_migrate_creates_the_postgres_schema(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = fresh_database(postgres_server, "migrate")
    data = make_data_dir(tmp_path, url)
    result = runner.invoke(app, ["migrate", "--json", "--data-dir", str(data)])
    assert result.exit_code == 0, result.output
    assert orjson.loads(result.stdout) == {
        "schema_version": LATEST_VERSION,
        "latest": LATEST_VERSION,
    }
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM schema_version").fetchone()
    assert row == (LATEST_VERSION,)


def test_migrate_on_the_default_sqlite_store(tmp_path: Path) -> None:
    result = runner.invoke(app, ["migrate", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"schema version {LATEST_VERSION}" in result.stdout
    assert (tmp_path / "silkgate.db").exists()


def test_worker_refuses_a_bad_poll(tmp_path: Path) -> None:
    result = runner.invoke(app, ["worker", "--poll", "0", "--data-dir", str(tmp_path)])
    assert result.exit_code != 0
    assert "--poll" in result.output
