"""A real hub on a temporary SQLite data dir with the demo cast registered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from silkgate.demo.runner import register_cast
from silkgate.hub import Hub, init_hub, open_hub

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    init_hub(tmp_path / "data")
    opened = open_hub(tmp_path / "data", clock=lambda: NOW)
    register_cast(opened, tmp_path / "keys", NOW.date())
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"
