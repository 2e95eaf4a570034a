"""An importer against the envelope state machine, over HTTP on a real hub.

The attack of issue #10: the importer reads the held envelope's digest from the public
ledger entry of its batch, signs a receipt over it and posts it, hoping to move the held
envelope to `acked` and then fetch its bytes. Every such attempt must end in a 409 naming
the state, for held, rejected and expired envelopes alike, and leave the hold in place.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from api.cast import NOW, PRODUCT, PURPOSE, Env, serve_cast, waybill
from holds.helpers import declarations

from silkgate.ledger.leaves import held_commitment
from silkgate.mailbox.service import run_purge
from silkgate.model import Agreement, Batch, Receipt
from silkgate.seal import sign_receipt

EXPORTER, IMPORTER = "cn-exporter", "vn-importer"
HELD_PRODUCT = "customs.declaration"
TTL = timedelta(days=14)
RETENTION = timedelta(days=30)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        # Declarations under a standard contract that was never filed: held (CN Art. 8).
        made.hub.store.put_agreement(
            Agreement(
                id="agr-held", exporter=EXPORTER, importer=IMPORTER, product=HELD_PRODUCT,
                purpose="customs_clearance", instrument="cn_standard_contract",
                valid_from=date(2026, 1, 1),
            )
        )  # fmt: skip
        yield made


def hold_one(env: Env, name: str = "b-held") -> tuple[str, int]:
    """A held batch; (held envelope id, ledger index of the batch leaf)."""
    batch = Batch(
        id=name, exporter=EXPORTER, importer=IMPORTER, product=HELD_PRODUCT,
        purpose="customs_clearance", records=declarations("VN", 3),
    )  # fmt: skip
    result = env.hub.pipeline.submit(batch)
    assert result.held_id is not None and result.envelope_id is None, result.outcomes
    assert result.ledger_index is not None
    return result.held_id, result.ledger_index


def deliver_one(env: Env) -> str:
    result = env.clients[EXPORTER].submit_batch(IMPORTER, PRODUCT, [waybill(1)], purpose=PURPOSE)
    assert result.envelope_id is not None
    return result.envelope_id


def held_from_ledger(env: Env, index: int) -> dict[str, str]:
    """What the importer can read (it is a party of its batch's entry): the held envelope
    as the batch leaf names it."""
    path = "/v1/ledger/proof/bundle"
    bundle = env.clients[IMPORTER].request("GET", path, params={"index": index})
    entry = msgspec.json.decode(base64.b64decode(bundle.json()["entry"]))
    held: dict[str, str] = entry["held"]
    return held


def real_digest(env: Env, envelope_id: str) -> bytes:
    """The digest an older hub showed in the ledger (or one leaked some other way)."""
    return hashlib.sha256(env.hub.store.get_envelope(envelope_id).data).digest()


def forge_receipt(env: Env, envelope_id: str, digest: bytes) -> Receipt:
    envelope = env.hub.store.get_envelope(envelope_id)
    _, key = env.rings[IMPORTER].current_signing(env.clock())
    return sign_receipt(envelope_id, envelope.batch_id, IMPORTER, digest, env.clock(), key)


def post_receipt(env: Env, receipt: Receipt) -> Any:
    path = f"/v1/envelopes/{receipt.envelope_id}/receipt"
    return env.clients[IMPORTER].request("POST", path, body=receipt, check=False)


def fetch(env: Env, envelope_id: str) -> Any:
    return env.clients[IMPORTER].request("GET", f"/v1/envelopes/{envelope_id}", check=False)


def held_ids(env: Env) -> list[str]:
    holds = env.clients["regulator"].request("GET", "/v1/holds").json()["holds"]
    return [h["envelope_id"] for h in holds]


def test_the_ledger_names_a_held_envelope_by_a_commitment_only(env: Env) -> None:
    held, index = hold_one(env)
    named = held_from_ledger(env, index)
    digest = real_digest(env, held)
    assert named == {"envelope_id": held, "commitment": held_commitment(digest)}
    assert digest.hex() not in str(env.hub.store.ledger_entries(0, env.hub.log.size()))
    # Signing the commitment as if it were the digest gets the attacker nowhere either.
    answer = post_receipt(env, forge_receipt(env, held, bytes.fromhex(named["commitment"])))
    assert answer.status_code == 409, answer.text


def test_the_scripted_attack_on_a_held_envelope_fails_with_409(env: Env) -> None:
    held, _ = hold_one(env)
    digest = real_digest(env, held)  # as older hubs published it in the batch's entry

    answer = post_receipt(env, forge_receipt(env, held, digest))
    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "conflict"
    assert f"envelope {held} is held" in answer.json()["message"]
    assert "a receipt is accepted only for a pending envelope" in answer.json()["message"]

    bytes_answer = fetch(env, held)
    assert bytes_answer.status_code == 409 and "held" in bytes_answer.json()["message"]
    assert bytes_answer.content != env.hub.store.get_envelope(held).data
    # Nothing moved: still held, listed, no receipt, no receipt leaf, no attempt counted.
    stored = env.hub.store.get_envelope(held)
    assert (stored.state, stored.attempts) == ("held", 0)
    assert held_ids(env) == [held]
    assert env.hub.store.list_receipts() == []
    # ... and a regulator can still reject it.
    reject = env.clients["regulator"].request(
        "POST",
        f"/v1/holds/{held}/reject",
        body=env.clients["regulator"].hold_decision_body("reject", held, "no filing"),
        check=False,
    )
    assert reject.status_code == 200, reject.text


def test_a_rejected_envelope_cannot_be_acknowledged_nor_fetched(env: Env) -> None:
    held, _ = hold_one(env)
    digest = real_digest(env, held)
    env.clients["regulator"].request(
        "POST",
        f"/v1/holds/{held}/reject",
        body=env.clients["regulator"].hold_decision_body(
            "reject", held, "no standard contract on file"
        ),
    )
    for signed_over in (digest, hashlib.sha256(b"").digest()):  # the old bytes, or nothing
        answer = post_receipt(env, forge_receipt(env, held, signed_over))
        assert answer.status_code == 409, answer.text
        assert f"envelope {held} is rejected" in answer.json()["message"]
    assert fetch(env, held).status_code == 409
    assert env.hub.store.get_envelope(held).state == "rejected"
    assert env.hub.store.list_receipts() == []


def test_an_expired_envelope_cannot_be_acknowledged_nor_fetched(env: Env) -> None:
    envelope_id = deliver_one(env)
    digest = hashlib.sha256(env.hub.store.get_envelope(envelope_id).data).digest()
    env.clock.advance(TTL.total_seconds())
    report = run_purge(env.hub.store, env.clock(), RETENTION)
    assert report.expired == 1
    for signed_over in (digest, hashlib.sha256(b"").digest()):
        answer = post_receipt(env, forge_receipt(env, envelope_id, signed_over))
        assert answer.status_code == 409, answer.text
        assert f"envelope {envelope_id} is expired" in answer.json()["message"]
    answer = fetch(env, envelope_id)
    assert answer.status_code == 409 and "expired" in answer.json()["message"]
    assert env.hub.store.get_envelope(envelope_id).state == "expired"


def test_release_then_the_importer_fetches_and_acknowledges(env: Env) -> None:
    held, index = hold_one(env)
    commitment = held_from_ledger(env, index)["commitment"]
    regulator = env.clients["regulator"]
    body = regulator.hold_decision_body("release", held, "contract filed on paper")
    released = regulator.request("POST", f"/v1/holds/{held}/release", body=body)
    assert released.json()["expires_at"]
    # The release leaf shows the digest now, and it opens the batch leaf's commitment.
    leaf = env.clients[IMPORTER].proof_bundle(released.json()["ledger_index"]).entry
    digest = bytes.fromhex(msgspec.json.decode(leaf)["digest"])
    assert held_commitment(digest) == commitment
    assert fetch(env, held).status_code == 200  # pending now: served, and counted
    assert env.hub.store.get_envelope(held).attempts == 1
    answer = post_receipt(env, forge_receipt(env, held, digest))  # a genuine receipt now
    assert answer.status_code == 201, answer.text
    assert env.hub.store.get_envelope(held).state == "acked"
    assert fetch(env, held).status_code == 200  # acknowledged, within the retention
    assert env.hub.store.get_envelope(held).attempts == 1  # no longer counted
    assert held_ids(env) == []
    again = env.clients["regulator"].request(
        "POST",
        f"/v1/holds/{held}/reject",
        body=env.clients["regulator"].hold_decision_body("reject", held, "too late"),
        check=False,
    )
    assert again.status_code == 409 and "acked" in again.json()["message"]


def test_acknowledged_data_purged_after_retention_answers_404(env: Env) -> None:
    envelope_id = deliver_one(env)
    digest = hashlib.sha256(env.hub.store.get_envelope(envelope_id).data).digest()
    receipt = forge_receipt(env, envelope_id, digest)
    assert post_receipt(env, receipt).status_code == 201
    env.clock.advance((TTL + RETENTION).total_seconds())
    assert run_purge(env.hub.store, env.clock(), RETENTION).acked_purged == 1
    answer = fetch(env, envelope_id)
    assert answer.status_code == 404 and "retention" in answer.json()["message"]
    # The genuine receipt posted again still answers the first one (idempotent).
    again = post_receipt(env, receipt)
    assert again.status_code == 201 and again.json()["ledger_index"] is not None


def test_a_wrong_digest_on_a_pending_envelope_is_still_422(env: Env) -> None:
    envelope_id = deliver_one(env)
    answer = post_receipt(env, forge_receipt(env, envelope_id, hashlib.sha256(b"").digest()))
    assert answer.status_code == 422
    assert env.hub.store.get_envelope(envelope_id).state == "pending"
    assert env.clock() == NOW  # nothing above moved the clock
