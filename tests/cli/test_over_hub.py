"""The readable results over a real `silkgate serve` (subprocess, loopback): `send --hub -v`
names each batch, `batches` and `counters` work as the key file's participant, an importer
gets no counters, `inbox --hub --out` carries provenance."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import orjson
from api.cast import waybill
from api.test_serve_e2e import SILKGATE, served, silkgate  # noqa: F401  (the fixture)


def test_readable_results_over_the_hub(served: tuple[str, Path]) -> None:  # noqa: F811
    url, work = served
    records = work / "waybills.ndjson"
    records.write_bytes(b"".join(orjson.dumps(waybill(n)) + b"\n" for n in range(5)))
    exporter = ("--hub", url, "--key-file", str(work / "exporter.json"))
    send = ("send", str(records), *exporter, "--importer", "vn-carrier",
            "--product", "logistics.waybill", "--purpose", "contract_performance",
            "--batch-size", "2")  # fmt: skip
    done = subprocess.run(
        [*SILKGATE, *send, "-v"], cwd=work, capture_output=True, timeout=120,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    named = [x.split()[-1] for x in done.stderr.decode().splitlines() if x.startswith("committed")]
    assert len(named) == 3
    for batch_id in named:
        assert batch_id in done.stdout.decode()

    listed = silkgate("batches", "list", *exporter, cwd=work)
    assert {b["batch_id"] for b in listed["batches"]} == set(named)
    shown = silkgate("batches", "show", named[0][:10], *exporter, cwd=work)
    assert shown["batch_id"] == named[0] and shown["rules"]

    counters = silkgate("counters", *exporter, cwd=work)
    assert [c["exporter"] for c in counters["counters"]] == ["cn-freight"]
    importer = ("--hub", url, "--key-file", str(work / "importer.json"))
    refused = subprocess.run(
        [*SILKGATE, "counters", *importer, "--json"], cwd=work, capture_output=True, timeout=120
    )
    assert refused.returncode == 1
    assert orjson.loads(refused.stderr)["error"] == "forbidden"

    out = work / "in.ndjson"
    got = silkgate("inbox", *importer, "--out", str(out), cwd=work)
    lines = [orjson.loads(x) for x in out.read_bytes().splitlines()]
    assert len(lines) == got["records"] > 0
    assert {x["_silkgate"]["batch"] for x in lines} <= set(named)
    assert all("obligations" in x["_silkgate"] for x in lines)  # the batch's decisions
