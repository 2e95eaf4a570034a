"""Faults on a scaled-out hub: 2 API nodes (`silkgate serve`) and 3 workers (`silkgate
worker`), separate processes on one PostgreSQL and one NATS JetStream, with an exporter
client per API node submitting signed HTTP requests. While batches stream in, one worker
is killed with SIGKILL and restarted, NATS restarts, and PostgreSQL restarts. Afterwards
every batch is decided once, counted once, ledgered once and pushed to its importer
(duplicates recognised by envelope id), and the ledger verifies."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import orjson
import pytest

from scale.hubs import (
    batch,
    clone_data_dir,
    declarations,
    make_data_dir,
    open_node,
    outcome_view,
    seed,
    seed_like,
)
from scale.servers import NatsServer, PostgresServer, free_port, fresh_database
from silkgate.demo import scenario
from silkgate.mailbox.delivery import ENVELOPE_ID_HEADER
from silkgate.store.base import PushEndpoint

TESTS = Path(__file__).resolve().parents[1]
_streams = itertools.count()


class Inbox:
    """The importers' push endpoint: records every envelope id pushed to it."""

    def __init__(self) -> None:
        self.received: list[str] = []
        lock = threading.Lock()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    received.append(self.headers.get(ENVELOPE_ID_HEADER, ""))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


def spawn(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    with open(log, "ab") as err:
        return subprocess.Popen(
            [sys.executable, *args], stdout=subprocess.PIPE, stderr=err, env=env
        )


def start_api(data: Path, port: int, root: Path) -> subprocess.Popen[bytes]:
    return spawn(
        ["-m", "silkgate", "serve", "--data-dir", str(data), "--port", str(port),
         "--log-format", "text", "--log-level", "warning"],
        root / f"api{port}.log",
    )  # fmt: skip


def wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "an API node exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"API node on {port} not up")


def start_worker(data: Path, n: int, root: Path) -> subprocess.Popen[bytes]:
    return spawn(
        ["-m", "silkgate", "worker", "--data-dir", str(data), "--poll", "0.2",
         "--log-format", "text", "--log-level", "warning"],
        root / f"worker{n}.log",
    )  # fmt: skip


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    made = Inbox()
    yield made
    made.close()


def test_kill_restart_and_outages_leave_every_batch_exactly_once(
    postgres_server: PostgresServer, nats_server: NatsServer, inbox: Inbox, tmp_path: Path
) -> None:
    n = next(_streams)
    url = fresh_database(postgres_server, f"faults{n}")
    nats = f"{nats_server.url}?stream=F{n}&prefix=f{n}&ack_wait=2"
    settings = (
        'push_allow_hosts = ["127.0.0.1"]\npush_backoff_seconds = 0.2\n'
        "checkpoint_every_seconds = 0.3\n"
    )
    data = make_data_dir(tmp_path, url, nats, settings)
    hub = open_node(data, real_clock=True)
    seed(hub, tmp_path / "keys", sensitive_before=0)
    for importer in (scenario.importer_for("VN"), scenario.importer_for("TH")):
        hub.store.put_push_endpoint(
            PushEndpoint(
                importer=importer,
                url=f"http://127.0.0.1:{inbox.port}/{importer}",
                created_at=hub.pipeline.clock(),
            )
        )
    leaves_before = hub.store.ledger_size()
    seeds = list(range(1, 61))
    workers = [start_worker(data, i, tmp_path) for i in range(3)]
    ports = [free_port(), free_port()]
    apis = [start_api(data, port, tmp_path) for port in ports]
    for port, api in zip(ports, apis, strict=True):
        wait_healthy(port, api)
    nodes = [
        spawn(
            [
                str(TESTS / "scale" / "submitter.py"),
                f"http://127.0.0.1:{ports[i]}",
                str(tmp_path / "keys"),
                ",".join(map(str, seeds[i::2])),
            ],
            tmp_path / f"client{i}.log",
        )
        for i in range(2)
    ]
    lines: list[dict[str, object]] = []
    readers = [threading.Thread(target=_collect, args=(node, lines)) for node in nodes]
    for reader in readers:
        reader.start()
    try:
        _wait_for(lambda: len(lines) >= 6)
        assert all(node.poll() is None for node in nodes)  # the faults hit mid-stream
        workers[0].send_signal(signal.SIGKILL)  # kill -9, then restart it
        workers[0].wait(10)
        workers[0] = start_worker(data, 3, tmp_path)
        _wait_for(lambda: len(lines) >= 14)
        assert all(node.poll() is None for node in nodes)
        nats_server.restart()
        _wait_for(lambda: len(lines) >= 24)
        assert all(node.poll() is None for node in nodes)
        postgres_server.restart()
        for node in nodes:
            node.wait(180)
        for reader in readers:
            reader.join(10)
        assert [node.returncode for node in nodes] == [0, 0], _logs(tmp_path)
        assert sorted(int(str(r["seed"])) for r in lines) == seeds
        seed_of = {str(r["batch"]): int(str(r["seed"])) for r in lines}

        # Decided once, ledgered once: one result per batch, consecutive leaves.
        results = {r.batch_id: r for r in hub.store.list_batch_results(limit=1000)}
        assert sorted(results) == sorted(seed_of)
        indexes = sorted(r.ledger_index or 0 for r in results.values())
        assert indexes == list(range(leaves_before, leaves_before + len(seeds)))
        assert {r["batch"]: r["index"] for r in lines} == {
            b: r.ledger_index for b, r in results.items()
        }

        # Delivered: every envelope reaches its importer (duplicates recognised by id).
        wanted = {r.envelope_id for r in results.values() if r.envelope_id}
        assert wanted
        deadline = time.monotonic() + 60
        while not wanted <= set(inbox.received) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert wanted <= set(inbox.received), _logs(tmp_path)
        assert set(inbox.received) <= wanted

        # The workers signed checkpoints; the log verifies against the latest one.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            latest = hub.log.latest_checkpoint()
            if latest is not None and latest.size == leaves_before + len(seeds):
                break
            time.sleep(0.2)
        report = hub.log.verify_log()
        assert report.size == leaves_before + len(seeds)
        assert report.checkpoint_size == report.size
    finally:
        for proc in [*workers, *apis, *nodes]:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in [*workers, *apis, *nodes]:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    # Clean stops: workers exit 0; uvicorn re-raises SIGTERM after its graceful shutdown.
    codes = [p.returncode for p in [*workers, *apis]]
    assert codes == [0, 0, 0, -signal.SIGTERM, -signal.SIGTERM], (codes, _logs(tmp_path))

    # Counted once: a serial replay in ledger order on SQLite counts the same.
    replay = open_node(
        clone_data_dir(data, tmp_path, f"sqlite:///{tmp_path / 'r.db'}"), real_clock=True
    )
    try:
        year = hub.pipeline.clock().year
        seed_like(hub, replay, 0, year)
        for result in sorted(results.values(), key=lambda r: r.ledger_index or 0):
            number = seed_of[result.batch_id]
            dest = ("VN", "TH")[number % 2]
            again = replay.pipeline.submit(batch(result.batch_id, declarations(5, number, dest),
                                                 destination=dest))  # fmt: skip
            assert outcome_view(again) == outcome_view(result)
        replayed = replay.store.subject_counts(year=year)
        assert replayed == hub.store.subject_counts(year=year)
        assert replayed  # the batches counted something
    finally:
        replay.close()
        hub.close()


def _collect(node: subprocess.Popen[bytes], into: list[dict[str, object]]) -> None:
    assert node.stdout is not None
    for line in node.stdout:
        into.append(orjson.loads(line))


def _wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _logs(root: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(root.glob("*.log")))
