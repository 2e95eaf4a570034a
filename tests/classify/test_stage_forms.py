"""The pipeline's classify stage in its fast forms gives what its plain forms give.

The classifier picks a record's subject in one pass over its findings (the plain form sorts
every finding at a subject path), and `Decider.inputs` builds each `RecordInput` without
concatenating empty tuples. Each is compared with its plain form here: on random
input, and on the demo corpus as the pipeline meets it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.classify import Classifier
from silkgate.classify.minors import minor_findings
from silkgate.clock import system_random
from silkgate.demo.runner import batches_of, register_cast
from silkgate.demo.synth import generate
from silkgate.flow.decide import _named_paths
from silkgate.hub import Hub, init_hub, open_hub
from silkgate.model import Finding, FindingType
from silkgate.policy import RecordInput
from silkgate.products import get_product

PRODUCTS = ("logistics.waybill", "ecommerce.order", "customs.declaration")

# Findings at a product's subject paths (and elsewhere), with values that normalize to a
# key and values that do not (blank), in any order and number.
_VALUES: dict[str, list[str]] = {
    "person_name": ["Nguyễn Văn An", "  ", "LIM  Wei Ming"],
    "phone": ["+84 912 345 678", "0912345678", " ", "8527 7563"],
    "email": ["an@example.com", " "],
    "national_id": ["S1234567D", "110101201503011234", "  "],
    "passport": ["K1988176B", " "],
    "address": ["88 Phố số 7, Hà Nội"],
}


def _findings(product: str) -> st.SearchStrategy[list[tuple[Finding, str]]]:
    annotated = list(get_product(product).annotations.items())
    other: list[tuple[str, FindingType]] = [
        ("$['remark']", "phone"),
        ("$['note']", "person_name"),
        ("$['sender']['phone']", "phone"),
    ]

    def one(pick: tuple[str, FindingType], value: str, country: str | None) -> tuple[Finding, str]:
        path, ftype = pick
        return Finding(path=path, type=ftype, detector="t", country=country), value

    return st.lists(
        st.sampled_from(annotated + other).flatmap(
            lambda pick: st.builds(
                one,
                st.just(pick),
                st.sampled_from(_VALUES.get(pick[1], ["x"])),
                st.sampled_from([None, "VN", "SG"]),
            )
        ),
        max_size=8,
    )


@pytest.mark.parametrize("product", PRODUCTS)
@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_the_one_pass_subject_is_the_sorted_one(product: str, data: st.DataObject) -> None:
    classifier = Classifier(get_product(product))
    found = data.draw(_findings(product))
    assert classifier._subjects({}, found) == classifier._ranked_subjects(found)


def test_the_one_pass_subject_is_the_sorted_one_on_the_demo_corpus() -> None:
    classifiers = {p: Classifier(get_product(p)) for p in PRODUCTS}
    seen = 0
    for r in generate(3000, seed=11):
        classifier = classifiers.get(r.product)
        if classifier is None:
            continue
        found: list[tuple[Finding, str]] = []
        classifier._walk_dict(r.record, None, classifier._root, None, found)
        if found:
            seen += 1
            fast = classifier._subjects(r.record, found)
            assert fast == classifier._ranked_subjects(found)
            assert fast  # every demo record of these products names its subject
    assert seen > 1000


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    data_dir: Path = tmp_path_factory.mktemp("hub")
    init_hub(data_dir)
    (data_dir / "silkgate.toml").write_text('store_url = "memory:"\n')
    hub = open_hub(data_dir)
    register_cast(hub, data_dir / "keys", hub.pipeline.clock().date())
    yield hub
    hub.close()


def _with_children(record: Any, i: int) -> Any:
    """Some records get a child: an age field, or a date of birth under 14."""
    if i % 7 == 0 and isinstance(record.get("consignee"), dict):
        return {**record, "consignee": {**record["consignee"], "age": i % 20}}
    if i % 11 == 0 and isinstance(record.get("buyer"), dict):
        return {**record, "buyer": {**record["buyer"], "date_of_birth": "2016-05-04"}}
    return record


def test_record_inputs_are_those_of_the_plain_construction(hub: Hub) -> None:
    decider = hub.pipeline.decider
    on = date(2026, 11, 29)
    checked = minors = 0
    for batch in batches_of(iter(generate(4000, seed=5)), 200, system_random):
        exporter, importer, product = decider.parties(
            batch.exporter, batch.importer, batch.product, batch.purpose
        )
        engine = decider.live_engine()
        ctx = decider.context(exporter, importer, product.id, batch.purpose, on)
        records = [_with_children(r, i) for i, r in enumerate(batch.records)]
        classified = decider.classify(product, records)
        got = decider.inputs(engine, ctx, records, classified)
        patterns = engine.path_patterns(exporter.jurisdiction, product.id)
        plain = [
            RecordInput(
                findings=c.findings + minor_findings(record, c.findings, on),
                subjects=c.subjects,
                paths=_named_paths(record, patterns) if patterns else (),
            )
            for record, c in zip(records, classified, strict=True)
        ]
        assert got == plain
        checked += len(got)
        minors += sum(1 for x in got if any(f.type == "minor" for f in x.findings))
    assert checked == 4000 and minors > 20
