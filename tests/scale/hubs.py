"""Hubs sharing one PostgreSQL database: one data directory (the hub's keys, a
silkgate.toml naming the database), opened once per simulated node."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from silkgate.demo import scenario
from silkgate.demo.runner import register_cast
from silkgate.demo.synth import PRODUCT_OF_KIND, generate
from silkgate.hub import HUB_KEY_FILE, Hub, init_hub, open_hub
from silkgate.model import Batch

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
EXPORTER = "cn-pingxiang-broker"  # its declarations count pi and sensitive_pi
PRODUCT = "customs.declaration"
SENSITIVE_THRESHOLD = 10_000  # cn.yaml sensitive_assessment_from
KIND_OF_PRODUCT = {product: kind for kind, product in PRODUCT_OF_KIND.items()}


def make_data_dir(root: Path, store_url: str, transport_url: str = "inproc:") -> Path:
    data = root / "data"
    init_hub(data)
    (data / "silkgate.toml").write_text(
        f'store_url = "{store_url}"\ntransport_url = "{transport_url}"\n', encoding="utf-8"
    )
    return data


def clone_data_dir(data: Path, root: Path, store_url: str) -> Path:
    """Another data dir with the same hub keys over another store (for serial replays)."""
    other = root / "replay"
    other.mkdir()
    shutil.copy2(data / HUB_KEY_FILE, other / HUB_KEY_FILE)
    (other / "silkgate.toml").write_text(f'store_url = "{store_url}"\n', encoding="utf-8")
    return other


def open_node(data: Path) -> Hub:
    return open_hub(data, clock=lambda: NOW)


def seed(hub: Hub, keys_dir: Path, *, sensitive_before: int) -> None:
    """The demo cast, and `sensitive_before` distinct sensitive subjects already counted."""
    register_cast(hub, keys_dir, NOW.date())
    hub.store.add_subjects(
        EXPORTER, NOW.year, "sensitive_pi", [os.urandom(32) for _ in range(sensitive_before)]
    )


def copy_registry(source: Hub, target: Hub) -> None:
    with target.store.transaction():
        for participant in source.store.list_participants():
            target.store.put_participant(participant)
        for agreement in source.store.list_agreements():
            target.store.put_agreement(agreement)
        for filing in source.store.list_filings():
            target.store.put_filing(filing)
    for (exporter, category), n in source.store.subject_counts(year=NOW.year).items():
        target.store.add_subjects(exporter, NOW.year, category, [os.urandom(32) for _ in range(n)])


def declarations(n: int, seed: int, destination: str = "VN") -> list[Any]:
    out = []
    for record in generate(n * 12, seed=seed, kinds=[KIND_OF_PRODUCT[PRODUCT]]):
        if record.product == PRODUCT and record.destination == destination:
            out.append(record.record)
            if len(out) == n:
                return out
    raise AssertionError(f"synth made fewer than {n} declarations to {destination}")


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
