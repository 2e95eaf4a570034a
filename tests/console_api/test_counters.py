"""Thresholds per exporter for the console: GET /v1/counters pages by exporter and says how
close each count is to the next CN threshold (100,000 / 1,000,000 individuals, 10,000
sensitive), warning from 80 % of it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console_api.demo import EXPORTERS, IMPORTERS, OPERATOR, REGULATOR, DemoHub, demo_hub
from silkgate.flow.thresholds import category_counter

CN = {
    "pi_contract_from": 100_000,
    "pi_assessment_from": 1_000_000,
    "sensitive_assessment_from": 10_000,
}


@pytest.mark.parametrize(
    ("category", "individuals", "level", "warning_at"),
    [
        ("pi", 0, "ok", 80_000),
        ("pi", 79_999, "ok", 80_000),
        ("pi", 80_000, "warning", 80_000),
        ("pi", 99_999, "warning", 80_000),
        ("pi", 100_000, "reached", 800_000),
        ("pi", 799_999, "reached", 800_000),
        ("pi", 800_000, "warning", 800_000),
        ("pi", 1_000_000, "reached", None),
        ("sensitive_pi", 7_999, "ok", 8_000),
        ("sensitive_pi", 8_000, "warning", 8_000),
        ("sensitive_pi", 10_000, "reached", None),
    ],
)
def test_levels(category: str, individuals: int, level: str, warning_at: int | None) -> None:
    found = category_counter(category, individuals, CN)
    assert (found.level, found.warning_at) == (level, warning_at)


def test_warn_at_is_a_share_of_the_next_threshold() -> None:
    assert category_counter("pi", 50_000, CN, 0.5).level == "warning"
    assert category_counter("pi", 49_999, CN, 0.5).warning_at == 50_000
    assert category_counter("pi", 1, {}, 0.5).level == "ok"  # no thresholds: nothing to warn


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHub]:
    with demo_hub(tmp_path_factory.mktemp("counters"), "sqlite") as made:
        yield made


def _counters(demo: DemoHub, who: str, **params: Any) -> Any:
    answer = demo.clients[who].request("GET", "/v1/counters", params=params, check=False)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_pages_equal_the_whole_report(demo: DemoHub) -> None:
    whole = _counters(demo, REGULATOR)
    assert whole["total"] == len(whole["counters"]) >= len(EXPORTERS)
    pages = [_counters(demo, REGULATOR, limit=1, offset=i) for i in range(whole["total"] + 1)]
    assert [c for page in pages for c in page["counters"]] == whole["counters"]
    assert all(page["total"] == whole["total"] for page in pages)
    assert pages[-1]["counters"] == []
    ids = [c["exporter"] for c in whole["counters"]]
    assert ids == sorted(ids)


def test_counts_are_the_stores_and_levels_follow_them(demo: DemoHub) -> None:
    whole = _counters(demo, REGULATOR)
    store = demo.hub.store
    counted = 0
    for exporter in whole["counters"]:
        for category in exporter["categories"]:
            n = store.subject_count(exporter["exporter"], whole["year"], category["category"])
            assert category["individuals"] == n
            counted += n
            assert category["level"] == category_counter(category["category"], n, CN).level
    assert counted > 0
    # a low warning share turns every exporter with individuals into a warning
    low = _counters(demo, REGULATOR, warn_at=0.00001)
    warned = {
        (c["exporter"], k["category"])
        for c in low["counters"]
        for k in c["categories"]
        if k["level"] == "warning"
    }
    assert warned == {
        (c["exporter"], k["category"])
        for c in whole["counters"]
        for k in c["categories"]
        if k["individuals"] >= 1
    }


def test_an_exporter_pages_its_own_only(demo: DemoHub) -> None:
    exporter = EXPORTERS[0]
    own = _counters(demo, exporter, limit=10)
    assert [c["exporter"] for c in own["counters"]] == [exporter] and own["total"] == 1
    refused = demo.clients[exporter].request(
        "GET", "/v1/counters", params={"exporter": EXPORTERS[1]}, check=False
    )
    assert refused.status_code == 403
    for other in (IMPORTERS[0], OPERATOR):
        assert demo.clients[other].request("GET", "/v1/counters", check=False).status_code == 403
    assert demo.http.get("/v1/counters").status_code == 401


@pytest.mark.parametrize(
    "params", [{"limit": 0}, {"limit": 501}, {"offset": -1}, {"warn_at": 0}, {"warn_at": 1.5}]
)
def test_bad_paging_is_refused(demo: DemoHub, params: dict[str, Any]) -> None:
    answer = demo.clients[REGULATOR].request("GET", "/v1/counters", params=params, check=False)
    assert answer.status_code == 422
