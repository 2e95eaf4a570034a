"""One checkpoint sequencer at a time: the leader of the "checkpoints" role (an advisory
lock on PostgreSQL) signs; when its connection is cut or its process dies, another takes
over; and across every checkpoint anyone signed, the log stays one consistent tree."""

from __future__ import annotations

import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from scale.hubs import batch, declarations, make_data_dir, open_node, seed
from scale.servers import PostgresServer, fresh_database
from scale.test_faults import start_worker
from silkgate.checkpointing import CheckpointPublisher
from silkgate.hub import Hub
from silkgate.ledger import TransparencyLog, merkle
from silkgate.model import Checkpoint
from silkgate.store.leader import FileLeadership, SoleLeadership, leadership
from silkgate.store.postgres import AdvisoryLeadership, PostgresStore, lock_key

KEY = lock_key("leader", "checkpoints")


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def leader_sessions(url: str) -> list[tuple[int, str]]:
    """(backend pid, application name) of every session holding the checkpoints lead."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT a.pid, a.application_name FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND l.objsubid = 1 AND l.classid = %s AND l.objid = %s",
            ((KEY >> 32) & 0xFFFFFFFF, KEY & 0xFFFFFFFF),
        ).fetchall()
    return [(int(pid), str(name)) for pid, name in rows]


def check_all_consistent(log: TransparencyLog, signed: list[Checkpoint]) -> int:
    """Every checkpoint signed (returned to a publisher, or stored) is the log's own
    signature over the final tree's root at its size, and each extends the one before
    (consistency proofs); returns how many distinct sizes were signed."""
    with psycopg.connect(log.store.url, autocommit=True) as conn:  # type: ignore[attr-defined]
        stored = [int(r[0]) for r in conn.execute("SELECT size FROM checkpoints").fetchall()]
    by_size: dict[int, bytes] = {}
    for cp in [*signed, *(log.get_checkpoint(s) for s in stored)]:  # get_: signature checked
        assert by_size.setdefault(cp.size, cp.root_hash) == cp.root_hash, cp.size
        assert log.root(cp.size) == cp.root_hash, cp.size
    sizes = sorted(s for s in by_size if s > 0)  # the empty tree is extended by any
    for small, large in itertools.pairwise(sizes):
        proof = log.consistency_proof(small, large)
        merkle.verify_consistency(small, large, proof, by_size[small], by_size[large])
    return len(sizes)


def leader_name(pid: int) -> str:
    """The application name a leader process gives its session."""
    return f"silkgate checkpoints leader pid {pid}"


class Node:
    """A process's checkpoint publisher, looping in a thread like `silkgate worker`."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.publisher = CheckpointPublisher(hub.log)
        self.signed: list[Checkpoint] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop)
        self.thread.start()

    @property
    def leader(self) -> AdvisoryLeadership:
        assert isinstance(self.publisher.leader, AdvisoryLeadership)
        return self.publisher.leader

    def _loop(self) -> None:
        while not self.stop.wait(0.05):
            try:
                done = self.publisher.lead_once()
            except Exception:  # the database restarting under it: next round
                continue
            if done is not None:
                self.signed.append(done)

    def die(self) -> None:
        """As if the process were killed: the loop stops, its connections just close."""
        self.stop.set()
        self.thread.join(10)
        conn = self.leader._conn
        if conn is not None:
            conn.close()  # no release(): the server sees the socket close


@pytest.fixture
def shared(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    url = fresh_database(postgres_server, "leader")
    data = make_data_dir(tmp_path, url)
    yield url, data


def test_a_cut_connection_or_a_dead_leader_hands_the_lead_over(
    shared: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = shared
    hub = open_node(data)
    seed(hub, tmp_path / "keys", sensitive_before=0)
    nodes = [Node(open_node(data)) for _ in range(3)]
    submitted = 0

    def submit(n: int) -> None:
        nonlocal submitted
        for _ in range(n):
            hub.pipeline.submit(batch(f"b{submitted:03d}", declarations(2, seed=submitted)))
            submitted += 1

    def leading() -> list[Node]:
        return [n for n in nodes if n.leader.leading]

    def caught_up() -> bool:
        latest = hub.log.latest_checkpoint()
        return latest is not None and latest.size == hub.log.size()

    try:
        submit(4)
        wait_for(lambda: len(leader_sessions(url)) == 1 and caught_up())
        first = leading()
        assert len(first) == 1
        [(pid, name)] = leader_sessions(url)
        assert first[0].leader.backend_pid == pid and "checkpoints leader" in name

        # Cut the leader's connection: it notices at its next round, another takes over.
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        submit(4)
        wait_for(lambda: any(n.leader.leading for n in nodes if n is not first[0]))
        wait_for(lambda: not first[0].leader.leading)
        second = leading()
        assert len(second) == 1 and second[0] is not first[0]
        wait_for(caught_up)
        assert second[0].signed and second[0].signed[-1].size == hub.log.size()

        # Kill the new leader's process: one of the other two takes over.
        second[0].die()
        submit(4)
        wait_for(lambda: any(n.leader.leading for n in nodes if n is not second[0]))
        wait_for(caught_up)
        third = [n for n in nodes if n is not second[0] and n.leader.leading]
        assert len(third) == 1 and third[0].signed[-1].size == hub.log.size()
        assert [pid for pid, _ in leader_sessions(url)] == [third[0].leader.backend_pid]

        # Across everything anyone signed: one tree, each checkpoint extending the last.
        signed = [cp for n in nodes for cp in n.signed]
        assert check_all_consistent(hub.log, signed) >= 3
        hub.log.verify_log()
    finally:
        for node in nodes:
            node.stop.set()
            node.thread.join(10)
            node.publisher.release()
            node.hub.close()
        hub.close()


def test_only_the_leader_signs(shared: tuple[str, Path], tmp_path: Path) -> None:
    """A follower's round signs nothing, even when the tree has grown."""
    _, data = shared
    hub = open_node(data)
    try:
        seed(hub, tmp_path / "keys", sensitive_before=0)
        first = CheckpointPublisher(hub.log)
        other_hub = open_node(data)
        second = CheckpointPublisher(other_hub.log)
        assert first.lead_once() is not None
        hub.pipeline.submit(batch("b-one", declarations(2, seed=1)))
        before = hub.log.latest_checkpoint()
        assert second.lead_once() is None  # not the leader: nothing signed
        assert hub.log.latest_checkpoint() == before
        first.release()  # a clean shutdown hands over at once
        taken = second.lead_once()
        assert taken is not None and taken.size == hub.log.size()
        second.release()
        other_hub.close()
    finally:
        hub.close()


def test_killing_the_leading_worker_process_hands_over(
    shared: tuple[str, Path], tmp_path: Path
) -> None:
    url, data = shared
    (data / "silkgate.toml").write_text(
        (data / "silkgate.toml").read_text() + "checkpoint_every_seconds = 0.2\n"
    )
    hub = open_node(data, real_clock=True)
    workers = []
    try:
        seed(hub, tmp_path / "keys", sensitive_before=0)
        for i in range(3):
            hub.pipeline.submit(batch(f"w{i}", declarations(2, seed=i)))
        workers = [start_worker(data, i, tmp_path) for i in range(2)]
        wait_for(lambda: len(leader_sessions(url)) == 1, 60)
        [(_, name)] = leader_sessions(url)
        [killed] = [w for w in workers if name == leader_name(w.pid)]
        [survivor] = [w for w in workers if w is not killed]
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        for i in range(3, 6):
            hub.pipeline.submit(batch(f"w{i}", declarations(2, seed=i)))
        wait_for(lambda: [n for _, n in leader_sessions(url)] == [leader_name(survivor.pid)])
        size = hub.log.size()

        def covered() -> bool:
            latest = hub.log.latest_checkpoint()
            return latest is not None and latest.size == size

        wait_for(covered)
        assert check_all_consistent(hub.log, []) >= 1
        assert hub.log.verify_log().checkpoint_size == size
        survivor.send_signal(signal.SIGTERM)
        assert survivor.wait(20) == 0
        wait_for(lambda: leader_sessions(url) == [])  # a clean stop gives the lead up
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        hub.close()


def test_leadership_without_postgresql(tmp_path: Path) -> None:
    from silkgate.store import MemoryStore, SqliteStore

    sole = leadership(MemoryStore(), "checkpoints")
    assert isinstance(sole, SoleLeadership) and sole.lead() and sole.leading
    store = SqliteStore(tmp_path / "s.db")
    one, two = leadership(store, "checkpoints"), leadership(store, "checkpoints")
    assert isinstance(one, FileLeadership)
    assert one.lead() and not two.lead()  # one flock per open file: the second waits
    assert one.lead()  # still held
    one.release()
    assert two.lead() and not one.lead()
    two.release()
    store.close()


def test_a_postgres_store_leads_through_an_advisory_lock(shared: tuple[str, Path]) -> None:
    url, _ = shared
    store = PostgresStore(url)
    try:
        made = leadership(store, "checkpoints")
        assert isinstance(made, AdvisoryLeadership) and made.lead()
        assert [pid for pid, _ in leader_sessions(url)] == [made.backend_pid]
        made.release()
        assert leader_sessions(url) == []
    finally:
        store.close()
