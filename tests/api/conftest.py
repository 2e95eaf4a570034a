"""Fixtures of the API tests (the cast and helpers are in api/cast.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.cast import BASE_URL, CAST, NOW, Clock, Env, register_cast
from silkgate.api.app import create_app
from silkgate.client import SilkgateClient
from silkgate.hub import init_hub, open_hub
from silkgate.seal.keys import create_keyring, save_keyring


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    clock = Clock()
    data_dir = tmp_path / "data"
    init_hub(data_dir)
    hub = open_hub(data_dir, clock=clock)
    keys_dir = tmp_path / "keys"
    keys_dir.mkdir()
    rings = {name: create_keyring(name, NOW - timedelta(days=1)) for name in CAST}
    for name, ring in rings.items():
        save_keyring(ring, keys_dir / f"{name}.json")
    register_cast(hub, rings)
    app = create_app(hub=hub, clock=clock)
    try:
        with TestClient(app, base_url=BASE_URL) as http:
            clients = {
                name: SilkgateClient(BASE_URL, ring, http=http, clock=clock)
                for name, ring in rings.items()
            }
            yield Env(hub, http, clock, rings, clients, keys_dir)
    finally:
        hub.close()
