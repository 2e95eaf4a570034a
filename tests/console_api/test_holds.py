"""The holds queue for the console: GET /v1/holds pages (limit, offset, total) and every
held batch says which legal step is missing (`requires` of each reason)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from console_api.demo import EXPORTERS, IMPORTERS, OPERATOR, REGULATOR, DemoHub, demo_hub


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoHub]:
    with demo_hub(tmp_path_factory.mktemp("holds"), "sqlite") as made:
        yield made


def _holds(demo: DemoHub, who: str, **params: Any) -> Any:
    answer = demo.clients[who].request("GET", "/v1/holds", params=params, check=False)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_hold_names_the_missing_step(demo: DemoHub) -> None:
    whole = _holds(demo, REGULATOR)
    assert whole["total"] == len(whole["holds"]) >= 1
    held = {r.held_id for r in demo.results if r.held_id is not None}
    assert {h["envelope_id"] for h in whole["holds"]} == held
    for hold in whole["holds"]:
        assert hold["reasons"]
        for reason in hold["reasons"]:
            assert reason["requires"] and reason["rule_ids"] and reason["citations"]


def test_pages_equal_the_whole_queue(demo: DemoHub) -> None:
    whole = _holds(demo, REGULATOR)
    pages = [_holds(demo, REGULATOR, limit=1, offset=i) for i in range(whole["total"] + 1)]
    assert [h for page in pages for h in page["holds"]] == whole["holds"]
    assert {page["total"] for page in pages} == {whole["total"]}


def test_each_party_sees_its_own_or_nothing(demo: DemoHub) -> None:
    whole = _holds(demo, REGULATOR)
    for exporter in EXPORTERS:
        own = _holds(demo, exporter)
        assert own["holds"] == [h for h in whole["holds"] if h["exporter"] == exporter]
        assert own["total"] == len(own["holds"])
        other = next(e for e in EXPORTERS if e != exporter)
        assert _holds(demo, exporter, exporter=other) == {"holds": [], "total": 0}
    for refused in (IMPORTERS[0], OPERATOR):
        assert demo.clients[refused].request("GET", "/v1/holds", check=False).status_code == 403
    assert demo.http.get("/v1/holds").status_code == 401


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"offset": -1}])
def test_bad_paging_is_refused(demo: DemoHub, params: dict[str, Any]) -> None:
    answer = demo.clients[REGULATOR].request("GET", "/v1/holds", params=params, check=False)
    assert answer.status_code == 422
