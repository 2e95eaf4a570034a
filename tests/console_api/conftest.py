"""Fixtures of the console API tests: the API tests' cast (tests/api/cast.py), served
in-process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api.cast import Env, serve_cast


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        yield made
