"""Load test on loopback: `silkgate serve` in a subprocess, an async httpx client signing
every request (RFC 9421, the SDK's RequestSigner) as the demo's exporters, submitting the
demo's synthetic traffic in batches, with a share of reads (a batch, the checkpoint).

    python bench/load.py [--seconds 20] [--concurrency 8] [--batch-size 50] [--reads 0.2]
                         [--records 20000] [--seed 7] [--json]

Prints requests/s, records/s (committed), p50/p99/max latency and the errors (any non-2xx
answer or transport failure); exits 1 if there was an error. Rate limits are off for the
run (they are per address, and the whole load comes from 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import orjson

from silkgate.client import RequestSigner
from silkgate.demo.runner import batches_of, register_cast
from silkgate.demo.synth import generate
from silkgate.hub import init_hub, open_hub
from silkgate.model import Batch
from silkgate.seal.keys import KeyRing, load_keyring

SERVE = (sys.executable, "-c", "from silkgate.cli import main; main()", "serve")


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    submits: int = 0
    reads: int = 0
    records: int = 0
    errors: list[str] = field(default_factory=list)
    committed: list[str] = field(default_factory=list)  # batch ids, for reads


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def prepare(work: Path) -> tuple[Path, Path]:
    data, keys = work / "data", work / "keys"
    init_hub(data)
    (data / "silkgate.toml").write_text(
        "rate_limit_ip_per_second = 0\nrate_limit_participant_per_second = 0\n", "utf-8"
    )
    keys.mkdir()
    hub = open_hub(data)
    try:
        register_cast(hub, keys, date.today())
    finally:
        hub.close()
    return data, keys


def start(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [*SERVE, "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data),
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=log.open("wb"),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"silkgate serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.kill()
    raise SystemExit("silkgate serve did not come up within 60 s")


def body_of(batch: Batch) -> bytes:
    return orjson.dumps(
        {"importer": batch.importer, "product": batch.product, "purpose": batch.purpose,
         "records": batch.records}
    )  # fmt: skip


async def worker(
    client: httpx.AsyncClient,
    signers: dict[str, RequestSigner],
    batches: list[Batch],
    until: float,
    reads: float,
    rng: random.Random,
    tally: Tally,
) -> None:
    while time.monotonic() < until:
        read = tally.committed and rng.random() < reads
        started = time.perf_counter()
        try:
            if read:
                if rng.random() < 0.5:
                    response = await client.get("/v1/ledger/checkpoint")
                else:
                    batch_id = rng.choice(tally.committed)
                    exporter = batch_id.split("|", 1)[0]
                    response = await client.get(
                        f"/v1/batches/{batch_id.split('|', 1)[1]}", auth=signers[exporter]
                    )
            else:
                batch = rng.choice(batches)
                response = await client.post(
                    "/v1/batches", content=body_of(batch), auth=signers[batch.exporter],
                    headers={"Content-Type": "application/json"},
                )  # fmt: skip
        except httpx.HTTPError as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        tally.latencies.append(time.perf_counter() - started)
        if response.status_code >= 300:
            tally.errors.append(f"{response.status_code}: {response.text[:200]}")
            continue
        if read:
            tally.reads += 1
        else:
            tally.submits += 1
            result = response.json()
            tally.records += int(result["records"])
            tally.committed.append(f"{result['exporter']}|{result['batch_id']}")


async def drive(
    url: str, rings: dict[str, KeyRing], batches: list[Batch], args: argparse.Namespace
) -> tuple[Tally, float]:
    signers = {pid: RequestSigner(ring) for pid, ring in rings.items()}
    tally = Tally()
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        started = time.monotonic()
        until = started + args.seconds
        rngs = [random.Random(args.seed + i) for i in range(args.concurrency)]
        await asyncio.gather(
            *(worker(client, signers, batches, until, args.reads, rng, tally) for rng in rngs)
        )
        return tally, time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def machine() -> dict[str, Any]:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "load_1min_before": round(os.getloadavg()[0], 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--reads", type=float, default=0.2, help="share of requests that read")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    host = machine()
    with tempfile.TemporaryDirectory(prefix="silkgate-load-") as tmp:
        work = Path(tmp)
        data, keys = prepare(work)
        rng = random.Random(args.seed)
        batches = list(batches_of(generate(args.records, seed=args.seed), args.batch_size,
                                  lambda n: rng.randbytes(n)))  # fmt: skip
        rings = {p.stem: load_keyring(p) for p in keys.glob("*.json")}
        port = free_port()
        server = start(data, port, work / "serve.log")
        try:
            tally, elapsed = asyncio.run(drive(f"http://127.0.0.1:{port}", rings, batches, args))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    requests = tally.submits + tally.reads
    report = {
        "seconds": round(elapsed, 2),
        "concurrency": args.concurrency,
        "batch_size": args.batch_size,
        "requests": requests,
        "requests_per_s": round(requests / elapsed, 1),
        "submits": tally.submits,
        "reads": tally.reads,
        "records": tally.records,
        "records_per_s": round(tally.records / elapsed, 1),
        "p50_ms": round(percentile(tally.latencies, 0.50) * 1000, 1),
        "p99_ms": round(percentile(tally.latencies, 0.99) * 1000, 1),
        "max_ms": round(max(tally.latencies, default=0) * 1000, 1),
        "mean_ms": round(statistics.fmean(tally.latencies) * 1000, 1) if tally.latencies else 0,
        "errors": len(tally.errors),
        "first_errors": tally.errors[:5],
        "machine": host,
    }
    if args.json:
        print(orjson.dumps(report).decode())
    else:
        for key, value in report.items():
            print(f"{key:>16}  {value}")
    return 1 if tally.errors else 0


if __name__ == "__main__":
    sys.exit(main())
