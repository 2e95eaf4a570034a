"""Fixtures of the API tests (the cast and helpers are in api/cast.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from api.cast import Env, serve_cast


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """A fresh hub with the cast, served in-process."""
    with serve_cast(tmp_path) as made:
        yield made
