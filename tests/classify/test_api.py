"""POST /v1/classify: signed like every route, open to every participant, nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api.cast import BASE_URL, Env, serve_cast, waybill

from silkgate.demo.synth import luhn_complete


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    with serve_cast(Path(tmp_path_factory.mktemp("classify-api"))) as made:
        yield made


def _post(env: Env, actor: str, body: object) -> httpx.Response:
    return env.clients[actor].request("POST", "/v1/classify", body=body, check=False)


def test_findings_carry_type_path_confidence_and_detector(env: Env) -> None:
    card = luhn_complete("970400" + "123456789")  # NAPAS: no brand table lists it
    records = [
        {"consignee": {"name": "Trần Thị Lan", "mobile": "+86 154 1234 5678"}},
        {"payment": {"card_number": card}, "note": "Container COSU4412521 sealed"},
        {"event": "arrived"},
    ]
    response = _post(env, "vn-importer", {"records": records})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["product"] == "generic.json"
    assert [r["index"] for r in body["records"]] == [0, 1, 2]
    first = {f["path"]: f for f in body["records"][0]["findings"]}
    name = first["$['consignee']['name']"]
    assert (name["type"], name["confidence"]) == ("person_name", "high")
    phone = first["$['consignee']['mobile']"]
    assert phone["type"] == "phone" and phone["confidence"] == "medium"
    assert "no_numbering_plan" in phone["evidence"] and phone["detector"] == "numbers"
    [card_finding] = body["records"][1]["findings"]
    assert card_finding["type"] == "bank_card" and card_finding["confidence"] == "medium"
    assert body["records"][2]["findings"] == []
    # Findings name paths, never values.
    assert "Trần" not in response.text and card not in response.text


def test_a_product_annotates_and_validates(env: Env) -> None:
    response = _post(env, "cn-exporter", {"product": "logistics.waybill", "records": [waybill(1)]})
    assert response.status_code == 200, response.text
    found = {f["path"]: f for f in response.json()["records"][0]["findings"]}
    assert found["$['consignee']['phone']"]["detector"] == "annotation"
    assert found["$['consignee']['phone']"]["confidence"] == "high"
    bad = _post(env, "cn-exporter", {"product": "logistics.waybill", "records": [{"x": 1}]})
    assert bad.status_code == 422 and bad.json()["error"] == "schema", bad.text
    unknown = _post(env, "cn-exporter", {"product": "no.such-product", "records": [{}]})
    assert unknown.status_code in (400, 404), unknown.text


def test_refusals(env: Env) -> None:
    unsigned = env.http.post(BASE_URL + "/v1/classify", json={"records": [{"a": "b"}]})
    assert unsigned.status_code == 401
    assert _post(env, "regulator", {"records": []}).status_code == 422
    too_many = _post(env, "operator", {"records": [{}] * 1001})
    assert too_many.status_code == 422 and "at most 1000" in too_many.json()["message"]
    extra = _post(env, "operator", {"records": [{}], "store": True})
    assert extra.status_code == 422


def test_nothing_is_stored(env: Env) -> None:
    store = env.hub.store
    before = (store.ledger_size(), len(env.clients["cn-exporter"].list_batches().batches))
    assert _post(env, "cn-exporter", {"records": [waybill(7)]}).status_code == 200
    after = (store.ledger_size(), len(env.clients["cn-exporter"].list_batches().batches))
    assert after == before
