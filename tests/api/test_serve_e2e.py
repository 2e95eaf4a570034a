"""End to end over a real socket: `silkgate serve` in a subprocess on a free loopback port,
`silkgate send --hub` as the exporter and `silkgate inbox --hub` as the importer, each with
its own key file; then the exporter fetches the receipt and its inclusion proof."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import pytest

from api.cast import waybill
from silkgate.client import SilkgateClient
from silkgate.ledger.bundle import ProofBundle, verify_bundle

SILKGATE = (sys.executable, "-c", "from silkgate.cli import main; main()")  # the console script
STARTUP_LIMIT = 60.0  # seconds; generous for a loaded 2-core machine


def silkgate(*args: str, cwd: Path) -> Any:
    """Run the CLI as a user would; return its --json output."""
    done = subprocess.run(
        [*SILKGATE, *args, "--json"],
        cwd=cwd,
        capture_output=True,
        timeout=120,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 0, done.stderr.decode()
    return orjson.loads(done.stdout.splitlines()[-1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_until_up(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_LIMIT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            errors = server.stderr.read().decode() if server.stderr else ""
            raise AssertionError(f"silkgate serve exited: {errors}")
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"silkgate serve did not answer on {url} within {STARTUP_LIMIT} s")


@contextmanager
def serving(
    data: Path,
    *,
    cwd: Path,
    stderr: IO[bytes] | int = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`silkgate serve` on `data` in a subprocess on a free loopback port, as a user starts
    it: its URL once it answers; stopped (killed if it must be) on leaving. `env`: the
    server's environment (default: this process's)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*SILKGATE, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir",
         str(data)],
        cwd=cwd, stdout=subprocess.DEVNULL, stderr=stderr, env=env,
    )  # fmt: skip
    try:
        wait_until_up(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    data = tmp_path / "data"
    silkgate("init", "--data-dir", str(data), cwd=tmp_path)
    cast = [
        ("cn-freight", "CN", "exporter", "exporter.json"),
        ("vn-carrier", "VN", "importer", "importer.json"),
    ]
    for pid, country, role, key_file in cast:
        silkgate(
            "participant", "add", "--id", pid, "--name", pid, "--jurisdiction", country,
            "--role", role, "--key-file", str(tmp_path / key_file), "--data-dir", str(data),
            cwd=tmp_path,
        )  # fmt: skip
    silkgate(
        "agreement", "add", "--exporter", "cn-freight", "--importer", "vn-carrier",
        "--product", "logistics.waybill", "--purpose", "contract_performance",
        "--instrument", "contract_necessity", "--data-dir", str(data),
        cwd=tmp_path,
    )  # fmt: skip
    log_file = tmp_path / "serve.log"  # the server's structured log (stderr)
    with log_file.open("wb") as log, serving(data, cwd=tmp_path, stderr=log) as url:
        yield url, tmp_path


def test_send_and_inbox_over_http_between_two_key_files(served: tuple[str, Path]) -> None:
    url, work = served
    records = work / "waybills.ndjson"
    records.write_bytes(b"".join(orjson.dumps(waybill(n)) + b"\n" for n in range(5)))
    sent = silkgate(
        "send", str(records), "--hub", url, "--key-file", str(work / "exporter.json"),
        "--importer", "vn-carrier", "--product", "logistics.waybill", "--batch-size", "2",
        "--purpose", "contract_performance",
        "--idempotency-key", "e2e-1",
        cwd=work,
    )  # fmt: skip
    assert sent["records"] == 5 and len(sent["batches"]) == 3
    delivered = [b for b in sent["batches"] if b["envelope_id"]]
    assert delivered

    again = silkgate(
        "send", str(records), "--hub", url, "--key-file", str(work / "exporter.json"),
        "--importer", "vn-carrier", "--product", "logistics.waybill", "--batch-size", "2",
        "--purpose", "contract_performance",
        "--idempotency-key", "e2e-1",
        cwd=work,
    )  # fmt: skip
    assert all(b["replayed"] for b in again["batches"])

    out = work / "opened.ndjson"
    inbox = silkgate(
        "inbox", "--hub", url, "--key-file", str(work / "importer.json"), "--out", str(out),
        cwd=work,
    )  # fmt: skip
    assert inbox["envelopes"] == len(delivered) == inbox["receipts"]
    opened = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert len(opened) == inbox["records"]
    assert {r["waybill_no"] for r in opened} <= {waybill(n)["waybill_no"] for n in range(5)}

    again_inbox = silkgate(
        "inbox", "--hub", url, "--key-file", str(work / "importer.json"), cwd=work
    )
    assert again_inbox["envelopes"] == 0

    with SilkgateClient(url, work / "exporter.json") as exporter:
        log_key = exporter.hub_identity().log_key
        for batch in delivered:
            receipts = exporter.receipts(batch["batch_id"])
            assert len(receipts.receipts) == 1
            verify_bundle(ProofBundle.from_dict(receipts.receipts[0].proof), None, log_key)


def test_serve_logs_one_json_object_per_line_without_contents(
    served: tuple[str, Path],
) -> None:
    url, work = served
    records = work / "waybills.ndjson"
    records.write_bytes(b"".join(orjson.dumps(waybill(n)) + b"\n" for n in range(3)))
    sent = silkgate(
        "send", str(records), "--hub", url, "--key-file", str(work / "exporter.json"),
        "--importer", "vn-carrier", "--product", "logistics.waybill",
        "--purpose", "contract_performance",
        cwd=work,
    )  # fmt: skip
    [batch] = sent["batches"]
    lines = (work / "serve.log").read_bytes().splitlines()
    entries = [orjson.loads(line) for line in lines]  # every line is one JSON object
    committed = [e for e in entries if e.get("batch_id") == batch["batch_id"]]
    assert committed and committed[0]["records"] == 3 and committed[0]["level"] == "info"
    assert any(e.get("route") == "/v1/batches" and e.get("status") == 201 for e in entries)
    log_text = b"\n".join(lines).decode()
    for n in range(3):
        assert waybill(n)["consignee"]["name"] not in log_text
