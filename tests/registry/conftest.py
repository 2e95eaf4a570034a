"""Fixtures of the registry tests: the API tests' cast on a fresh hub, plus a participant
holding both trade roles and a deactivated exporter (for the agreement rules)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from api.cast import NOW, Env, make_participant, serve_cast

from silkgate.seal.keys import create_keyring


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        store = made.hub.store
        dual = make_participant(
            "cn-dual", create_keyring("cn-dual", NOW), "CN", ("exporter", "importer")
        )
        inactive = make_participant(
            "cn-inactive", create_keyring("cn-inactive", NOW), "CN", ("exporter",)
        )
        with store.transaction():
            store.put_participant(dual)
            store.put_participant(msgspec.structs.replace(inactive, active=False))
        yield made
