"""NoncePort contract: request nonces remembered once (every implementation)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from silkgate.store.base import Store
from silkgate.store.ports import NoncePort

from .builders import T0, Boom


def test_nonces_are_remembered_once_until_purged(store: NoncePort) -> None:
    until = T0 + timedelta(minutes=5)
    assert store.remember_nonce("n1", until) is True
    assert store.remember_nonce("n1", until + timedelta(days=1)) is False
    assert store.remember_nonce("n2", until + timedelta(minutes=5)) is True
    assert store.purge_nonces(expired_before=until) == 0  # strictly before
    assert store.purge_nonces(expired_before=until + timedelta(seconds=1)) == 1
    assert store.remember_nonce("n1", until) is True  # forgotten, so accepted again
    assert store.remember_nonce("n2", until) is False


def test_nonce_rolls_back_with_its_transaction(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        assert store.remember_nonce("n1", T0) is True
        raise Boom
    assert store.remember_nonce("n1", T0) is True


def test_concurrent_nonces_are_accepted_once(store: NoncePort) -> None:
    accepted: list[bool] = []
    lock = threading.Lock()

    def race() -> None:
        won = store.remember_nonce("shared", T0)
        with lock:
            accepted.append(won)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(accepted) == [False] * 7 + [True]
