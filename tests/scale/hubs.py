"""Hubs sharing one PostgreSQL database: one data directory (the hub's keys, a
silkgate.toml naming the database), opened once per simulated node."""

from __future__ import annotations

import functools
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from silkgate.demo import scenario
from silkgate.demo.runner import register_cast
from silkgate.demo.synth import PRODUCT_OF_KIND, generate
from silkgate.hub import HUB_KEY_FILE, Hub, init_hub, open_hub
from silkgate.model import Batch, BatchResult

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
EXPORTER = "cn-pingxiang-broker"  # its declarations count pi and sensitive_pi
PRODUCT = "customs.declaration"
SENSITIVE_THRESHOLD = 10_000  # cn.yaml sensitive_assessment_from
KIND_OF_PRODUCT = {product: kind for kind, product in PRODUCT_OF_KIND.items()}


def make_data_dir(
    root: Path, store_url: str, transport_url: str = "inproc:", extra: str = ""
) -> Path:
    data = root / "data"
    init_hub(data)
    (data / "silkgate.toml").write_text(
        f'store_url = "{store_url}"\ntransport_url = "{transport_url}"\n{extra}',
        encoding="utf-8",
    )
    return data


def clone_data_dir(data: Path, root: Path, store_url: str) -> Path:
    """Another data dir with the same hub keys over another store (for serial replays)."""
    other = root / "replay"
    other.mkdir()
    shutil.copy2(data / HUB_KEY_FILE, other / HUB_KEY_FILE)
    (other / "silkgate.toml").write_text(f'store_url = "{store_url}"\n', encoding="utf-8")
    return other


def open_node(data: Path, *, real_clock: bool = False) -> Hub:
    return open_hub(data) if real_clock else open_hub(data, clock=lambda: NOW)


def seed(hub: Hub, keys_dir: Path, *, sensitive_before: int) -> None:
    """The demo cast, and `sensitive_before` distinct sensitive subjects already counted."""
    register_cast(hub, keys_dir, NOW.date())
    hub.store.add_subjects(
        EXPORTER, NOW.year, "sensitive_pi", [os.urandom(32) for _ in range(sensitive_before)]
    )


def seed_like(source: Hub, target: Hub, sensitive_before: int, year: int) -> None:
    """The registry of `source`, and `sensitive_before` counted sensitive subjects."""
    with target.store.transaction():
        for participant in source.store.list_participants():
            target.store.put_participant(participant)
        for agreement in source.store.list_agreements():
            target.store.put_agreement(agreement)
        for filing in source.store.list_filings():
            target.store.put_filing(filing)
    target.store.add_subjects(
        EXPORTER, year, "sensitive_pi", [os.urandom(32) for _ in range(sensitive_before)]
    )


def outcome_view(result: BatchResult) -> list[tuple[str, Any]]:
    """What a decision depended on: its outcome and the counts before and after."""
    return [(d.outcome, d.facts.get("counts")) for d in result.decisions]


@functools.cache
def _pool(destination: str) -> tuple[Any, ...]:
    """Synthetic declarations to one destination (made once per process: the generator
    takes a second to start)."""
    made = generate(4000, seed=11, kinds=[KIND_OF_PRODUCT[PRODUCT]])
    return tuple(r.record for r in made if r.product == PRODUCT and r.destination == destination)


def declarations(n: int, seed: int, destination: str = "VN") -> list[Any]:
    """`n` declarations to `destination`, the same for the same seed in every process;
    neighbouring seeds overlap by a record (a subject counted twice is counted once)."""
    pool = _pool(destination)
    start = (seed * (n - 1)) % (len(pool) - n)
    return list(pool[start : start + n])


def batch(bid: str, records: list[Any], key: str | None = None, destination: str = "VN") -> Batch:
    _, purpose = scenario.ROUTES[PRODUCT]
    return Batch(
        id=bid,
        exporter=EXPORTER,
        importer=scenario.importer_for(destination),
        product=PRODUCT,
        purpose=purpose,
        records=records,
        idempotency_key=key,
    )
