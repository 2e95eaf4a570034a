"""A hub after demo traffic, served over real HTTP on a free 127.0.0.1 port, for the browser
tests and for scripts/console-screenshots: the demo's cast and key files, a shadow policy
version, an active sandbox experiment, and fresh batches waiting in the importers'
mailboxes."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random

import httpx
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sandbox.helpers import OVERLAY, cn_variant

from silkgate.api.app import create_app
from silkgate.client import SilkgateClient
from silkgate.demo import scenario
from silkgate.demo.runner import DemoOptions, batches_of, run_demo
from silkgate.demo.synth import generate
from silkgate.hub import Hub
from silkgate.ledger.checkpoint import COSIGNATURE_V1, cosign, parse_note, verifier_for
from silkgate.sandbox.cohorts import CohortSpec

REGULATOR = scenario.REGULATOR[0]
OPERATOR = scenario.OPERATOR[0]
EXPORTER = "cn-pingxiang-broker"  # the demo's exporter with held batches
OTHER_EXPORTER = "cn-nanning-freight"
IMPORTER = "vn-hanoi-carrier"
COHORT = "gx-customs-trial"
TRIAL_VERSION = "2026.1-trial"
STARTUP_LIMIT = 60.0
# A witness (C2SP tlog-witness) the hub is configured with. It is never contacted (the
# hub's background publishing is off); `cosign_latest` cosigns as it would.
WITNESS = "witness.gx-data-authority.example"
WITNESS_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(7, 39)))
WITNESS_VKEY = verifier_for(WITNESS, WITNESS_KEY, COSIGNATURE_V1).vkey()


@dataclass
class World:
    root: Path
    data_dir: Path
    keys_dir: Path
    url: str
    app: FastAPI

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.silkgate.hub
        return hub

    def key_file(self, participant: str) -> Path:
        return self.keys_dir / f"{participant}.json"

    def client(self, participant: str) -> SilkgateClient:
        return SilkgateClient(self.url, self.key_file(participant))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    """`app` under uvicorn in a thread on a free loopback port; yields its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-hub", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_LIMIT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"the hub did not start on {url}")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def cosign_latest(world: World, *, key: Ed25519PrivateKey = WITNESS_KEY) -> int:
    """The witness cosigns the hub's current checkpoint (as it would over tlog-witness);
    returns the size cosigned. A cosignature by another `key` is not kept by the log."""
    log = world.hub.log
    signed = log.checkpoint()
    line = cosign(parse_note(signed.note).text, WITNESS, key, int(time.time()))
    log.add_cosignatures(signed.size, [line], [verifier_for(WITNESS, WITNESS_KEY, COSIGNATURE_V1)])
    return signed.size


def _sandbox(world: World) -> None:
    """A trial version in shadow and an active experiment, as a regulator sets them up."""
    with world.client(REGULATOR) as regulator:
        regulator.propose_policy(
            cn_variant(TRIAL_VERSION, pi_contract_from=20, parcel_products="[]")
        )
        regulator.transition_policy("cn", TRIAL_VERSION, "shadow")
        now = datetime.now(UTC)
        regulator.create_cohort(
            CohortSpec(
                id=COHORT,
                title="Customs declarations to MY and ID under supervision",
                members=(EXPORTER,),
                corridors=("CN-MY", "CN-ID"),
                overlay_yaml=OVERLAY,
                start=now - timedelta(minutes=1),
                end=now + timedelta(days=30),
                max_records=5000,
                max_individuals=2000,
            )
        )


def _more_traffic(world: World, records: int) -> None:
    """Fresh batches sent over the API by each exporter; nobody pulls them, so they wait in
    the importers' mailboxes (and the shadow version sees them)."""
    rng = Random(11)
    clients = {pid: world.client(pid) for pid in scenario.EXPORTERS}
    try:
        for batch in batches_of(generate(records, seed=11), 100, rng.randbytes):
            clients[batch.exporter].submit_batch(
                batch.importer, batch.product, batch.records, purpose=batch.purpose,
                on_gate_deny="ignore",
            )  # fmt: skip
    finally:
        for client in clients.values():
            client.close()


@contextmanager
def demo_world(root: Path, records: int = 1500, more: int = 400) -> Iterator[World]:
    data_dir = root / "hub"
    run_demo(DemoOptions(data_dir=data_dir, records=records, proof_samples=3))
    os.chmod(data_dir, 0o700)
    settings = f'[[witnesses]]\nurl = "http://127.0.0.1:9/witness"\nkey = "{WITNESS_VKEY}"\n'
    (data_dir / "silkgate.toml").write_text(settings, encoding="utf-8")
    app = create_app(data_dir)
    with serve(app) as url:
        world = World(root, data_dir, data_dir / "participant-keys", url, app)
        httpx.get(f"{url}/v1/health", timeout=10).raise_for_status()
        _sandbox(world)
        _more_traffic(world, more)
        cosign_latest(world)
        yield world
