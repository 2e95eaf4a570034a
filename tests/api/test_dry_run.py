"""POST /v1/batches/check decides exactly as POST /v1/batches would, and commits nothing."""

from __future__ import annotations

from typing import Any

from .cast import PRODUCT, PURPOSE, Env, waybill


def _project(decisions: list[Any]) -> list[tuple[Any, ...]]:
    return [(d.outcome, d.rule_ids, d.obligations, d.policy_version) for d in decisions]


def test_dry_run_equals_submission_and_writes_nothing(env: Env) -> None:
    client = env.clients["cn-exporter"]
    records = [waybill(n) for n in range(7)]
    ledger_before = env.hub.store.ledger_size()
    batches_before = len(env.hub.store.list_batch_results())
    dry = client.dry_run("vn-importer", PRODUCT, records, purpose=PURPOSE, batch_size=3)
    assert env.hub.store.ledger_size() == ledger_before
    assert len(env.hub.store.list_batch_results()) == batches_before
    assert [r.index for r in dry.decisions] == list(range(7))
    sent = [
        d
        for start in range(0, 7, 3)
        for d in client.submit_batch(
            "vn-importer", PRODUCT, records[start : start + 3], purpose=PURPOSE
        ).decisions
    ]
    assert _project([r.decision for r in dry.decisions]) == _project(sent)


def test_dry_run_without_agreement_denies_as_submission_does(env: Env) -> None:
    client = env.clients["cn-exporter"]
    records = [waybill(1)]
    dry = client.dry_run("vn-importer", PRODUCT, records, purpose="marketing")
    sent = client.submit_batch("vn-importer", PRODUCT, records, purpose="marketing")
    assert [r.decision.rule_ids for r in dry.decisions] == [("gate.no-agreement",)]
    assert _project([r.decision for r in dry.decisions]) == _project(list(sent.decisions))


def test_dry_run_for_another_exporter_is_forbidden(env: Env) -> None:
    body = {"exporter": "cn-exporter", "importer": "vn-importer", "product": PRODUCT,
            "purpose": PURPOSE, "records": [waybill(2)]}  # fmt: skip
    response = env.clients["cn-other-exporter"].request(
        "POST", "/v1/batches/check", body=body, check=False
    )
    assert response.status_code == 403, response.text


def test_dry_run_refuses_a_bad_batch_size(env: Env) -> None:
    body = {"importer": "vn-importer", "product": PRODUCT, "purpose": PURPOSE,
            "records": [waybill(3)], "batch_size": 0}  # fmt: skip
    response = env.clients["cn-exporter"].request(
        "POST", "/v1/batches/check", body=body, check=False
    )
    assert response.status_code == 422, response.text
    assert "batch_size" in response.text
