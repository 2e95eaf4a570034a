"""A batch's decision facts are grouped by record shape with the engine's shapes (by
identity) when it gives them, else by hashing each record's findings and paths: both ways
give the same facts, on batches of every demo product."""

from __future__ import annotations

import dataclasses

import pytest

from pipeline.test_pipeline import batch_of, synthetic
from silkgate.hub import Hub
from silkgate.sandbox.facts import facts_for_batch


@pytest.mark.parametrize(
    ("product", "destination"),
    [
        ("logistics.waybill", "VN"),
        ("ecommerce.order", "TH"),
        ("customs.declaration", "MY"),
        ("logistics.epcis-event", "VN"),
    ],
)
def test_facts_by_engine_shape_equal_facts_by_hashed_findings(
    hub: Hub, product: str, destination: str
) -> None:
    batch = batch_of(product, destination, synthetic(product, destination, 60))
    pipeline = hub.pipeline
    now = pipeline.clock()
    engine, ctx, inputs = pipeline._current(batch, pipeline._prepare(batch, now.date()), now)
    _, decided = pipeline.decider.decide(
        engine, ctx, inputs, batch_id=batch.id, now=now, commit=False
    )
    assert decided.shapes is not None and len(decided.shapes) == len(inputs)
    key = pipeline.decider.subject_key
    by_shape = facts_for_batch(batch, ctx, inputs, decided, key, now)
    hashed = facts_for_batch(
        batch, ctx, inputs, dataclasses.replace(decided, shapes=None), key, now
    )
    assert list(by_shape) == list(hashed)
    assert len(by_shape.shapes) == len(hashed.shapes) < len(inputs)
