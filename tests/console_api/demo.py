"""A hub with the demo cast and demo traffic spread over several days, served in-process,
on the SQLite or the memory store; each participant's client signs with its demo key file."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from api.cast import BASE_URL, NOW, Clock
from fastapi.testclient import TestClient

from silkgate.api.app import create_app
from silkgate.client import SilkgateClient
from silkgate.demo import scenario
from silkgate.demo.runner import batches_of, register_cast
from silkgate.demo.synth import generate
from silkgate.hub import Hub, init_hub, open_hub
from silkgate.model import BatchResult
from silkgate.registry.keys import load_key_file

EXPORTERS = list(scenario.EXPORTERS)
IMPORTERS = list(scenario.IMPORTERS)
REGULATOR = scenario.REGULATOR[0]
OPERATOR = scenario.OPERATOR[0]
RECORDS = 1200
BATCH_SIZE = 60
HOURS_APART = 7  # between batches: the traffic spans several UTC days


@dataclass
class DemoHub:
    hub: Hub
    http: TestClient
    clock: Clock
    clients: dict[str, SilkgateClient]
    keys_dir: Path
    results: list[BatchResult]


@contextmanager
def demo_hub(root: Path, store: str) -> Iterator[DemoHub]:
    """`store` is "sqlite" or "memory"."""
    data = root / "data"
    init_hub(data)
    toml = 'store_url = "memory:"\n' if store == "memory" else ""
    (data / "silkgate.toml").write_text(toml, "utf-8")
    clock = Clock(NOW)
    hub = open_hub(data, clock=clock)
    keys_dir = root / "keys"
    try:
        register_cast(hub, keys_dir, NOW.date())
        rng = random.Random(7)
        results = []
        for batch in batches_of(generate(RECORDS, seed=7), BATCH_SIZE, rng.randbytes):
            clock.advance(HOURS_APART * 3600)
            results.append(hub.pipeline.submit(batch))
        app = create_app(hub=hub, clock=clock)
        with TestClient(app, base_url=BASE_URL) as http:
            clients = {
                pid: SilkgateClient(
                    BASE_URL, load_key_file(keys_dir / f"{pid}.json"), http=http, clock=clock
                )
                for pid in scenario.all_participant_ids()
            }
            yield DemoHub(hub, http, clock, clients, keys_dir, results)
    finally:
        hub.close()
