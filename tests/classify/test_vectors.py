"""Per-detector positive and negative cases, kept as data files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from silkgate.classify import Classifier

VECTORS = Path(__file__).parent.parent / "vectors" / "classify"
POSITIVES: list[dict[str, Any]] = json.loads((VECTORS / "positives.json").read_text("utf-8"))
NEGATIVES: list[dict[str, Any]] = json.loads((VECTORS / "negatives.json").read_text("utf-8"))
CLF = Classifier()


@pytest.mark.parametrize("case", POSITIVES, ids=lambda c: f"{c['type']}:{c['value'][:30]}")
def test_positive(case: dict[str, Any]) -> None:
    key = case.get("key", "v")
    findings = CLF.classify({key: case["value"]}).findings
    matching = [f for f in findings if f.type == case["type"] and f.path == f"$['{key}']"]
    assert matching, f"no {case['type']} in {case['value']!r}: {findings}"
    if "country" in case:
        assert matching[0].country == case["country"]
    if "span" in case:
        assert matching[0].span == tuple(case["span"])


@pytest.mark.parametrize("case", NEGATIVES, ids=lambda c: c["value"][:30])
def test_negative(case: dict[str, Any]) -> None:
    findings = CLF.classify({"v": case["value"], "f7": case["value"]}).findings
    assert findings == (), f"{case['why']}: {findings}"
