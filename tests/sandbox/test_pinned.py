"""Inside a batch's transaction the sandbox reads its generation once: the cohorts'
decision and the observers (shadows, facts) use the same engines. Outside it, and after
it, every call reads the store again, so a transition reaches the next batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from silkgate.sandbox.lifecycle import GENERATION_KEY, META_KIND
from silkgate.sandbox.shadow import load_diff

from .helpers import demo_batches, make_world, move, propose


def test_one_generation_read_per_batch_inside_its_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = make_world(tmp_path, "pin")
    try:
        shadow = move(world, propose(world), "shadow")
        store = world.hub.store
        reads: list[bool] = []  # per read of the generation: inside a transaction?
        depth = [0]
        real_read, real_transaction = store.get_sandbox_doc, store.transaction

        def counted(kind: str, key: str, **kw: Any) -> bytes | None:
            if (kind, key) == (META_KIND, GENERATION_KEY):
                reads.append(depth[0] > 0)
            return real_read(kind, key, **kw)

        @contextmanager
        def tracked() -> Iterator[None]:
            depth[0] += 1
            try:
                with real_transaction():
                    yield
            finally:
                depth[0] -= 1

        monkeypatch.setattr(store, "get_sandbox_doc", counted)
        monkeypatch.setattr(store, "transaction", tracked)
        batches = demo_batches()[:3]
        for batch in batches:
            world.hub.pipeline.submit(batch)
        # per batch: the live engine outside the transaction, the pinned read inside it
        assert reads == [False, True] * len(batches)
        assert load_diff(store, shadow.key).batches == len(batches)  # the shadow still ran
        sandbox = world.hub.pipeline.decider.sandbox
        assert sandbox is not None
        before = len(reads)
        sandbox.engines()
        assert len(reads) == before + 1  # no pin left behind: the store is read again
    finally:
        world.hub.close()
