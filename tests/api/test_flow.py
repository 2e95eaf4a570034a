"""The whole flow over HTTP, in-process: submit -> mailbox -> open with the importer's own
key -> signed receipt -> the exporter fetches the receipt with an inclusion proof."""

from __future__ import annotations

import threading

import orjson
import pytest

from api.cast import NOW, PRODUCT, PURPOSE, Env, make_participant, waybill
from silkgate.client import HttpMailbox
from silkgate.errors import ConflictError, InputError, NotFoundError, SchemaError
from silkgate.ledger.bundle import ProofBundle, verify_bundle
from silkgate.mailbox.inbox import drain_inbox
from silkgate.seal import decode_records, envelope_digest, open_envelope, sign_receipt
from silkgate.seal.keys import create_keyring, ed25519_key_id


def test_submit_deliver_open_receipt_and_prove(env: Env) -> None:
    exporter, importer = env.clients["cn-exporter"], env.clients["vn-importer"]
    records = [waybill(i) for i in range(3)]
    result = exporter.submit_batch("vn-importer", PRODUCT, records, purpose=PURPOSE)
    assert result.exporter == "cn-exporter" and result.records == 3
    assert result.envelope_id is not None, result.outcomes

    page = importer.mailbox()
    assert [e.id for e in page.envelopes] == [result.envelope_id]
    sealed = importer.fetch_envelope(result.envelope_id)
    assert envelope_digest(sealed) == page.envelopes[0].digest

    identity = importer.hub_identity()
    hub_keys = HttpMailbox(importer).hub_public_keys()
    assert list(hub_keys) == [identity.key_id]
    opened = open_envelope(sealed, env.rings["vn-importer"].opening_keys(), hub_keys)
    assert opened.header.batch_id == result.batch_id
    assert len(decode_records(opened.payload)) == opened.header.record_count

    _, signing_key = env.rings["vn-importer"].current_signing(NOW)
    receipt = sign_receipt(
        result.envelope_id,
        result.batch_id,
        "vn-importer",
        envelope_digest(sealed),
        NOW,
        signing_key,
    )
    stored = importer.acknowledge(receipt)
    assert stored.ledger_index is not None
    assert importer.acknowledge(receipt) == stored  # acknowledging twice: the first receipt
    assert importer.mailbox().envelopes == []

    receipts = exporter.receipts(result.batch_id)
    assert receipts.log_key == env.hub.log.vkey
    assert [r.receipt.signature for r in receipts.receipts] == [receipt.signature]
    for bundle in [receipts.batch_proof, *(r.proof for r in receipts.receipts)]:
        assert bundle is not None
        verify_bundle(ProofBundle.from_dict(bundle), None, env.hub.log.vkey)
    receipt_entry = orjson.loads(ProofBundle.from_dict(receipts.receipts[0].proof).entry)
    assert receipt_entry["kind"] == "receipt"
    assert receipt_entry["envelope_id"] == result.envelope_id


def test_drain_inbox_over_http(env: Env) -> None:
    exporter, importer = env.clients["cn-exporter"], env.clients["vn-importer"]
    for n in range(3):
        exporter.submit_batch("vn-importer", PRODUCT, [waybill(n)], purpose=PURPOSE)
    opened: list[bytes] = []
    summary = drain_inbox(
        HttpMailbox(importer),
        env.rings["vn-importer"],
        sink=lambda header, payload: opened.append(payload),
        clock=env.clock,
        page_size=2,
    )
    assert (summary.envelopes, summary.records, summary.receipts) == (3, 3, 3)
    assert len(opened) == 3
    assert (
        drain_inbox(HttpMailbox(importer), env.rings["vn-importer"], clock=env.clock).envelopes == 0
    )
    batches = exporter.list_batches().batches
    assert len(batches) == 3
    for batch in batches:
        assert len(exporter.receipts(batch.batch_id).receipts) == 1


def test_mailbox_pages_with_after_and_limit(env: Env) -> None:
    exporter, importer = env.clients["cn-exporter"], env.clients["vn-importer"]
    ids = [
        exporter.submit_batch("vn-importer", PRODUCT, [waybill(n)], purpose=PURPOSE).envelope_id
        for n in range(5)
    ]
    seen: list[str] = []
    after = None
    while page := importer.mailbox(after=after, limit=2).envelopes:
        assert len(page) <= 2
        seen += [e.id for e in page]
        after = page[-1].id
    assert sorted(seen) == sorted(i for i in ids if i is not None)
    assert all(e.data is None for e in importer.mailbox().envelopes)
    assert all(e.data for e in importer.mailbox(data=True).envelopes)


def test_long_poll_wakes_on_delivery(env: Env) -> None:
    exporter, importer = env.clients["cn-exporter"], env.clients["vn-importer"]
    got: list[int | Exception] = []
    started = threading.Event()

    def poll() -> None:
        started.set()
        try:
            got.append(len(importer.mailbox(wait=30).envelopes))
        except Exception as exc:  # shown by the assertion below, not lost in the thread
            got.append(exc)

    thread = threading.Thread(target=poll)
    thread.start()
    assert started.wait(timeout=30)
    exporter.submit_batch("vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE)
    thread.join(timeout=60)
    assert got == [1]


def test_long_poll_returns_at_once_when_mail_is_waiting(env: Env) -> None:
    env.clients["cn-exporter"].submit_batch("vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE)
    assert len(env.clients["vn-importer"].mailbox(wait=30).envelopes) == 1


def test_idempotent_submission(env: Env) -> None:
    exporter = env.clients["cn-exporter"]
    records = [waybill(1), waybill(2)]
    first = exporter.submit_batch(
        "vn-importer", PRODUCT, records, purpose=PURPOSE, idempotency_key="day-1"
    )
    size = env.hub.store.ledger_size()
    again = exporter.submit_batch(
        "vn-importer", PRODUCT, records, purpose=PURPOSE, idempotency_key="day-1"
    )
    assert again.batch_id == first.batch_id and again.envelope_id == first.envelope_id
    assert again.replayed and not first.replayed
    assert env.hub.store.ledger_size() == size
    assert len(exporter.list_batches().batches) == 1
    assert len(env.clients["vn-importer"].mailbox().envelopes) == 1
    with pytest.raises(ConflictError, match="day-1"):
        exporter.submit_batch(
            "vn-importer", PRODUCT, [waybill(3)], purpose=PURPOSE, idempotency_key="day-1"
        )
    assert env.hub.store.ledger_size() == size


def test_idempotency_keys_are_scoped_to_the_caller(env: Env) -> None:
    one = env.clients["cn-exporter"].submit_batch(
        "vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE, idempotency_key="k"
    )
    other = env.clients["cn-other-exporter"].submit_batch(
        "th-other-importer", PRODUCT, [waybill(1, "TH")], purpose=PURPOSE, idempotency_key="k"
    )
    assert other.batch_id != one.batch_id and not other.replayed


def test_replayed_submission_answers_200_with_a_header(env: Env) -> None:
    client = env.clients["cn-exporter"]
    body = {
        "importer": "vn-importer",
        "product": PRODUCT,
        "purpose": PURPOSE,
        "records": [waybill(1)],
    }
    first = client.request("POST", "/v1/batches", body=body, headers={"Idempotency-Key": "h"})
    second = client.request("POST", "/v1/batches", body=body, headers={"Idempotency-Key": "h"})
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert first.json()["batch_id"] == second.json()["batch_id"]


def test_bad_record_names_record_and_path(env: Env) -> None:
    records = [waybill(0), {**waybill(1), "consignee": {"phone": "1"}}]
    with pytest.raises(SchemaError) as caught:
        env.clients["cn-exporter"].submit_batch("vn-importer", PRODUCT, records, purpose=PURPOSE)
    assert caught.value.record == 1
    assert caught.value.path is not None and "consignee" in caught.value.path
    assert env.hub.store.ledger_size() == 0


def test_error_body_format(env: Env) -> None:
    response = env.http.get("/v1/batches")
    assert response.status_code == 401
    assert set(response.json()) == {"error", "message"}
    assert response.json()["error"] == "auth"
    body = {"importer": "vn-importer", "product": PRODUCT, "purpose": "gossip", "records": [{}]}
    with pytest.raises(InputError) as caught:
        env.clients["cn-exporter"].request("POST", "/v1/batches", body=body)
    assert caught.value.path == "$['purpose']"
    with pytest.raises(NotFoundError):
        env.clients["cn-exporter"].submit_batch("nobody", PRODUCT, [waybill(1)], purpose=PURPOSE)
    with pytest.raises(NotFoundError):
        env.clients["cn-exporter"].get_batch("b_missing")


def test_registry_over_http(env: Env) -> None:
    operator = env.clients["operator"]
    ring = create_keyring("my-importer", NOW)
    registered = operator.register_participant(
        make_participant("my-importer", ring, "MY", ("importer",))
    )
    assert registered.id == "my-importer"
    assert "my-importer" in [p.id for p in operator.participants()]
    newcomer = env.client(ring).whoami()  # the new participant can sign at once
    assert newcomer["id"] == "my-importer"
    assert newcomer["key_id"] == ed25519_key_id(registered.signing_key)


def test_health_hub_and_metrics_are_public(env: Env) -> None:
    assert env.http.get("/v1/health").json()["status"] == "ok"
    assert env.http.get("/v1/hub").status_code == 200
    env.clients["cn-exporter"].submit_batch("vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE)
    text = env.http.get("/metrics").text
    assert "silkgate_batches_total 1" in text
    assert 'silkgate_http_requests_total{method="POST",route="/v1/batches",status="201"} 1' in text
    assert "silkgate_records_total{outcome=" in text


def test_openapi_lists_the_endpoints(env: Env) -> None:
    paths = env.http.get("/openapi.json").json()["paths"]
    for path in ("/v1/batches", "/v1/mailbox", "/v1/envelopes/{envelope_id}/receipt", "/v1/check"):
        assert path in paths
    assert env.http.get("/docs").status_code == 200


def test_check_is_a_dry_run(env: Env) -> None:
    exporter = env.clients["cn-exporter"]
    records = [waybill(1), waybill(2)]
    checked = exporter.check("CN", "VN", PRODUCT, records, purpose=PURPOSE)
    assert [d.index for d in checked.decisions] == [0, 1]
    assert sum(checked.outcomes.values()) == 2
    assert all(d.decision.rule_ids for d in checked.decisions)
    assert env.hub.store.ledger_size() == 0
    assert exporter.list_batches().batches == []
    with pytest.raises(SchemaError) as caught:
        exporter.check("CN", "VN", PRODUCT, [waybill(1), {"waybill_no": 1}])
    assert caught.value.record == 1
    with pytest.raises(InputError, match="ASEAN"):
        exporter.check("CN", "US", PRODUCT, records)
