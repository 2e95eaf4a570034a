"""The CLI as an operator, an exporter and an importer use it, on a real data dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.config import check_private_files
from silkgate.demo.synth import PRODUCT_OF_KIND, generate

runner = CliRunner()
WAYBILL_AGREEMENT = (
    *("agreement", "add", "--exporter", "cn-freight", "--importer", "vn-carrier"),
    *("--product", "logistics.waybill", "--purpose", "logistics_operations"),
    *("--instrument", "cn_standard_contract", "--valid-from", "2026-01-01"),
)
SEND_WAYBILLS = (
    *("--exporter", "cn-freight", "--importer", "vn-carrier"),
    *("--product", "logistics.waybill", "--purpose", "logistics_operations"),
)


KIND_OF_PRODUCT = {product: kind for kind, product in PRODUCT_OF_KIND.items()}


def run(*args: str) -> Any:
    result = runner.invoke(app, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def run_fails(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code != 0
    return str(result.exception or "") + result.output


def write_ndjson(path: Path, product: str, destination: str, n: int) -> list[Any]:
    records = [
        r.record
        for r in generate(n * 12, seed=11, kinds=[KIND_OF_PRODUCT[product]])
        if r.product == product and r.destination == destination
    ][:n]
    assert len(records) == n
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in records))
    return records


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    run("init", "--data-dir", str(d))
    run(
        "participant",
        "add",
        "--id",
        "cn-freight",
        "--name",
        "Nanning Freight",
        "--jurisdiction",
        "CN",
        "--role",
        "exporter",
        "--key-file",
        str(tmp_path / "cn.key"),
        "--data-dir",
        str(d),
    )
    run(
        "participant",
        "add",
        "--id",
        "vn-carrier",
        "--name",
        "Hanoi Carrier",
        "--jurisdiction",
        "VN",
        "--role",
        "importer",
        "--key-file",
        str(tmp_path / "vn.key"),
        "--data-dir",
        str(d),
    )
    return d


def test_registry_commands_round_trip(data_dir: Path) -> None:
    d = str(data_dir)
    ids = {p["id"] for p in run("participant", "list", "--data-dir", d)}
    assert ids == {"cn-freight", "vn-carrier"}
    run(*WAYBILL_AGREEMENT, "--data-dir", d)
    [agreement] = run("agreement", "list", "--data-dir", d)
    assert agreement["product"] == "logistics.waybill"
    run(
        "filing",
        "add",
        "--exporter",
        "cn-freight",
        "--kind",
        "standard_contract",
        "--recipient",
        "vn-carrier",
        "--valid-from",
        "2026-01-01",
        "--data-dir",
        d,
    )
    [filing] = run("filing", "list", "--data-dir", d)
    assert filing["recipient"] == "vn-carrier"


def test_key_files_are_private(data_dir: Path, tmp_path: Path) -> None:
    assert (tmp_path / "cn.key").stat().st_mode & 0o077 == 0


def test_send_inbox_and_ledger_verify(data_dir: Path, tmp_path: Path) -> None:
    d = str(data_dir)
    run(*WAYBILL_AGREEMENT, "--data-dir", d)
    file = tmp_path / "waybills.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 120)
    sent = run(
        "send",
        str(file),
        *SEND_WAYBILLS,
        "--batch-size",
        "50",
        "--idempotency-key",
        "wb-1",
        "--data-dir",
        d,
    )
    assert sent["records"] == 120 and len(sent["batches"]) == 3
    again = run(
        "send",
        str(file),
        *SEND_WAYBILLS,
        "--batch-size",
        "50",
        "--idempotency-key",
        "wb-1",
        "--data-dir",
        d,
    )
    assert all(b["replayed"] for b in again["batches"])
    assert [b["batch_id"] for b in again["batches"]] == [b["batch_id"] for b in sent["batches"]]
    delivered = sum(1 for b in sent["batches"] if b["envelope_id"])
    got = run(
        "inbox",
        "--key-file",
        str(tmp_path / "vn.key"),
        "--out",
        str(tmp_path / "in.ndjson"),
        "--data-dir",
        d,
    )
    assert got["receipts"] == delivered
    lines = (tmp_path / "in.ndjson").read_bytes().splitlines()
    assert len(lines) == got["records"]
    verified = run("ledger", "verify", "--data-dir", d)
    assert verified["size"] == len(sent["batches"]) + delivered


def test_send_refuses_a_file_with_a_bad_record_before_sending_anything(
    data_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "bad.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 5)
    lines = file.read_bytes().splitlines()
    lines.insert(3, b'{"waybill_no": 7}')
    file.write_bytes(b"\n".join(lines))
    out = run_fails(
        "send",
        str(file),
        "--exporter",
        "cn-freight",
        "--importer",
        "vn-carrier",
        "--product",
        "logistics.waybill",
        "--purpose",
        "logistics_operations",
        "--data-dir",
        str(data_dir),
    )
    assert "record 3" in out
    status = run("ledger", "verify", "--data-dir", str(data_dir))
    assert status["size"] == 0


def test_malformed_json_names_the_line(data_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "broken.ndjson"
    file.write_bytes(b'{"a": 1}\n{"a": \n')
    out = run_fails(
        "send",
        str(file),
        "--exporter",
        "cn-freight",
        "--importer",
        "vn-carrier",
        "--product",
        "generic.json",
        "--purpose",
        "logistics_operations",
        "--data-dir",
        str(data_dir),
    )
    assert "line 2" in out


def test_classify_prints_one_line_per_record(tmp_path: Path) -> None:
    file = tmp_path / "orders.ndjson"
    records = write_ndjson(file, "ecommerce.order", "TH", 4)
    result = runner.invoke(app, ["classify", str(file), "--product", "ecommerce.order"])
    assert result.exit_code == 0, result.output
    lines = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert [line["index"] for line in lines] == list(range(len(records)))
    assert all(
        any(
            f["type"] == "person_name" and f["path"] == "$['buyer']['name']"
            for f in line["findings"]
        )
        for line in lines
    )


def test_demo_json_summary(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    summary = run("demo", "--records", "3000", "--data-dir", str(demo))
    assert summary["records"] == 3000
    assert set(summary["outcomes"]) == {"allow", "allow_transformed", "hold", "deny"}
    for outcome in ("allow", "allow_transformed", "hold"):
        assert summary["outcomes"][outcome] > 0, summary["outcomes"]
    # The summary's claims, checked independently: the whole ledger and its signed
    # checkpoint re-verify, and proofs were verified for a spread of the batches.
    verified = run("ledger", "verify", "--data-dir", str(demo))
    assert verified["size"] == summary["ledger_size"] == verified["checkpoint_size"]
    assert summary["checkpoint_verified"] is True
    step = max(1, summary["batches"] // 20)
    assert summary["inclusion_proofs_verified"] == len(range(0, summary["batches"], step)) > 0
    # CAC Provisions (2024), Art. 5(4) and Art. 7
    assert summary["thresholds"] == {
        "pi": 100_000,
        "sensitive_pi": 10_000,
        "security_assessment_pi": 1_000_000,
    }
    assert summary["receipts"] == summary["delivered_envelopes"] > 0
    assert summary["ledger_size"] == summary["batches"] + summary["receipts"]
    assert summary["records_per_second"] > 0
    # What the demo leaves can be served as it is (serve refuses a directory others may enter).
    assert demo.stat().st_mode & 0o777 == 0o700
    check_private_files(demo)


def test_demo_refuses_to_wipe_a_non_demo_directory(data_dir: Path) -> None:
    out = run_fails("demo", "--records", "10", "--data-dir", str(data_dir))
    assert "not from a demo" in out


def test_kill_during_send_loses_no_committed_batch(data_dir: Path, tmp_path: Path) -> None:
    """SIGKILL a `silkgate send` mid-stream: every batch it reported committed is in the
    store and the ledger, and the ledger still verifies."""
    d = str(data_dir)
    run(*WAYBILL_AGREEMENT, "--data-dir", d)
    file = tmp_path / "many.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 400)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "silkgate.cli",
            "send",
            str(file),
            *SEND_WAYBILLS,
            "--batch-size",
            "10",
            "--data-dir",
            d,
            "--json",
            "--verbose",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    committed: list[str] = []
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while len(committed) < 5 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if line.startswith(b"committed "):
            committed.append(line.split()[1].decode())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert len(committed) >= 5, "the sender never reported a commit"
    verified = run("ledger", "verify", "--data-dir", d)
    from silkgate.hub import open_hub

    hub = open_hub(data_dir)
    try:
        for batch_id in committed:
            result = hub.store.get_batch_result(batch_id)
            assert result.ledger_index is not None and result.ledger_index < verified["size"]
        assert len(hub.store.list_batch_results(limit=1000)) == hub.store.ledger_size()
    finally:
        hub.close()


def test_rotate_hub_key_keeps_the_old_key_published(data_dir: Path) -> None:
    from silkgate.hub import LocalMailbox, open_hub

    hub = open_hub(data_dir)
    before = set(LocalMailbox(hub).hub_public_keys())
    hub.close()
    rotated = run("rotate-hub-key", "--data-dir", str(data_dir))
    hub = open_hub(data_dir)
    try:
        after = set(LocalMailbox(hub).hub_public_keys())
    finally:
        hub.close()
    assert rotated["envelope_key"] in after
    assert before < after
