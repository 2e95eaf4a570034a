"""kill -9 of `silkgate serve` while exporters submit, the hub pushes and the importer posts
receipts, in a loop; then a restart. After every kill: nothing the hub acknowledged is lost
(every batch answered 2xx is there, every receipt answered 2xx is in the ledger), a retried
submission with the same Idempotency-Key is recognised as a duplicate when the first one
committed, and the ledger verifies (every node recomputed, the checkpoint signed and
matching). Pushes after a restart repeat the envelope id, so the receiver recognises them."""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from api.cast import PRODUCT, PURPOSE, waybill

from faults.harness import Served, prepare
from silkgate.client import SilkgateClient
from silkgate.errors import SilkgateError
from silkgate.hub import open_hub
from silkgate.seal.envelope import envelope_digest
from silkgate.seal.receipts import sign_receipt

ROUNDS = int(os.environ.get("SILKGATE_FAULT_ROUNDS", "2"))  # docs/reliability.md: a long run


@dataclass
class Ledgered:
    acknowledged: dict[str, str] = field(default_factory=dict)  # idempotency key -> batch id
    unanswered: set[str] = field(default_factory=set)  # sent, no answer before the kill
    receipts: dict[str, int | None] = field(default_factory=dict)  # envelope id -> index
    pushed: list[str] = field(default_factory=list)  # envelope ids the receiver got
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def push_receiver(record: Ledgered) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with record.lock:
                record.pushed.append(self.headers["Silkgate-Envelope-Id"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/inbox"
    finally:
        server.shutdown()
        server.server_close()


def _client(served: Served, who: str) -> SilkgateClient:
    return SilkgateClient(served.url, served.rings[who], timeout=10)


def submitter(served: Served, round_no: int, record: Ledgered, stop: threading.Event) -> None:
    with _client(served, "cn-exporter") as client:
        n = 0
        while not stop.is_set():
            key = f"r{round_no}-{n}"
            n += 1
            with record.lock:
                record.unanswered.add(key)
            try:
                result = client.submit_batch("vn-importer", PRODUCT, [waybill(n), waybill(n + 1)],
                                             purpose=PURPOSE, idempotency_key=key)  # fmt: skip
            except SilkgateError:
                return  # the hub died under us
            with record.lock:
                record.unanswered.discard(key)
                record.acknowledged[key] = result.batch_id


def acknowledger(served: Served, record: Ledgered, stop: threading.Event) -> None:
    ring = served.rings["vn-importer"]
    with _client(served, "vn-importer") as client:
        while not stop.is_set():
            try:
                for envelope in client.mailbox().envelopes:
                    data = client.fetch_envelope(envelope.id)
                    _, key = ring.current_signing(datetime.now(UTC))
                    digest = envelope_digest(data)
                    receipt = sign_receipt(envelope.id, envelope.batch_id, "vn-importer", digest,
                                           datetime.now(UTC), key)  # fmt: skip
                    posted = client.acknowledge(receipt)
                    with record.lock:
                        record.receipts[envelope.id] = posted.ledger_index
            except SilkgateError:
                return
            time.sleep(0.05)


def check_after_kill(served: Served, record: Ledgered) -> None:
    hub = open_hub(served.data)  # the server is dead: the data directory as it was left
    try:
        report = hub.log.verify_log()
        assert report is not None
        for key, batch_id in record.acknowledged.items():
            result = hub.store.get_batch_result(batch_id)  # NotFoundError would fail the test
            assert result.ledger_index is not None, key
        for envelope_id in record.receipts:
            receipt = hub.store.get_receipt(envelope_id)
            assert receipt.ledger_index is not None
            assert hub.store.get_envelope(envelope_id).state in ("acked",)
    finally:
        hub.close()


def test_kill_9_during_submission_push_and_receipts_loses_nothing(tmp_path: Path) -> None:
    served = prepare(tmp_path)
    record = Ledgered()
    rng = random.Random(11)
    with push_receiver(record) as push_url:
        served.start()
        try:
            with _client(served, "vn-importer") as importer:
                importer.register_push(push_url)
            for round_no in range(ROUNDS):
                stop = threading.Event()
                workers = [
                    threading.Thread(target=submitter, args=(served, round_no, record, stop)),
                    threading.Thread(target=acknowledger, args=(served, record, stop)),
                ]
                for worker in workers:
                    worker.start()
                time.sleep(rng.uniform(0.5, 1.5))
                served.kill9()
                stop.set()
                for worker in workers:
                    worker.join(timeout=30)
                check_after_kill(served, record)
                served.start()
                retry_unanswered(served, record)
            assert record.acknowledged, "nothing was submitted before the kills"
            # after the last restart, every delivered envelope reaches the receiver
            expected = delivered_envelopes(served, record)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not expected <= set(record.pushed):
                time.sleep(0.2)
            missing = expected - set(record.pushed)
            assert not missing, describe(served, missing)
        finally:
            served.stop()
    check_after_kill(served, record)
    print(  # shown with -s; the figures in docs/reliability.md come from here
        f"kill -9 loop: {ROUNDS} kills, {len(record.acknowledged)} batches acknowledged, "
        f"{len(record.receipts)} receipts, {len(record.pushed)} pushes "
        f"({len(record.pushed) - len(set(record.pushed))} repeated envelope ids)"
    )


def retry_unanswered(served: Served, record: Ledgered) -> None:
    """Retry each submission that got no answer, with its key: a duplicate is recognised."""
    with _client(served, "cn-exporter") as client:
        for key in sorted(record.unanswered):
            n = int(key.rsplit("-", 1)[1]) + 1
            result = client.submit_batch("vn-importer", PRODUCT, [waybill(n), waybill(n + 1)],
                                         purpose=PURPOSE, idempotency_key=key)  # fmt: skip
            again = client.submit_batch("vn-importer", PRODUCT, [waybill(n), waybill(n + 1)],
                                        purpose=PURPOSE, idempotency_key=key)  # fmt: skip
            assert again.replayed and again.batch_id == result.batch_id
            record.acknowledged[key] = result.batch_id
        record.unanswered.clear()
        for key, batch_id in sorted(record.acknowledged.items())[-3:]:  # the latest few
            n = int(key.rsplit("-", 1)[1]) + 1
            replay = client.submit_batch("vn-importer", PRODUCT, [waybill(n), waybill(n + 1)],
                                         purpose=PURPOSE, idempotency_key=key)  # fmt: skip
            assert replay.replayed and replay.batch_id == batch_id


def delivered_envelopes(served: Served, record: Ledgered) -> set[str]:
    """Every envelope still pending (not acknowledged, also by a receipt whose answer the
    kill cut off): each must reach the push receiver."""
    found: set[str] = set()
    with _client(served, "vn-importer") as client:
        after = None
        while True:
            page = client.mailbox(after=after, limit=100)
            found.update(e.id for e in page.envelopes)
            if len(page.envelopes) < 100:
                return found
            after = page.envelopes[-1].id


def describe(served: Served, envelope_ids: set[str]) -> str:
    """What the store says of envelopes that were not pushed (for a failure message)."""
    hub = open_hub(served.data)
    try:
        lines = []
        for envelope_id in sorted(envelope_ids):
            envelope = hub.store.get_envelope(envelope_id)
            due = hub.store.get_sandbox_doc("push.due", envelope_id)
            lines.append(
                f"{envelope_id}: {envelope.state}, {envelope.attempts} attempts, due {due!r}"
            )
        return "; ".join(lines) + "\n" + served.log_tail()
    finally:
        hub.close()
