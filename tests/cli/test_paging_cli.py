"""`silkgate participant|agreement|filing list` give the same rows on the data dir and over
--hub (a real `silkgate serve`, loopback), where the SDK follows the hub's paged lists
across more than one page of 500."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from api.test_serve_e2e import serving, silkgate

from silkgate.client import PAGE_LIMIT
from silkgate.hub import open_hub
from silkgate.model import Agreement, Filing

EXPORTER, OTHER, IMPORTER, OPERATOR = "cn-freight", "cn-other", "vn-carrier", "cn-operator"
MANY = PAGE_LIMIT + 30  # agreements and filings of EXPORTER: more than one page


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    work = tmp_path_factory.mktemp("paging-cli")
    data = work / "data"
    silkgate("init", "--data-dir", str(data), cwd=work)
    cast = [(EXPORTER, "CN", "exporter"), (OTHER, "CN", "exporter"),
            (IMPORTER, "VN", "importer"), (OPERATOR, "CN", "operator")]  # fmt: skip
    for pid, country, role in cast:
        silkgate(
            "participant", "add", "--id", pid, "--name", pid, "--jurisdiction", country,
            "--role", role, "--key-file", str(work / f"{pid}.json"), "--data-dir", str(data),
            cwd=work,
        )  # fmt: skip
    local = open_hub(data)
    try:
        with local.store.transaction():
            for n in range(MANY + 40):
                exporter = EXPORTER if n < MANY else OTHER
                local.store.put_agreement(
                    Agreement(
                        id=f"agr-{n:05d}", exporter=exporter, importer=IMPORTER,
                        product="logistics.waybill", purpose="contract_performance",
                        instrument="contract_necessity", valid_from=date(2026, 1, 1),
                    )
                )  # fmt: skip
                local.store.put_filing(
                    Filing(
                        id=f"fil-{n:05d}", exporter=exporter, kind="standard_contract",
                        recipient=IMPORTER, valid_from=date(2026, 1, 1),
                    )
                )  # fmt: skip
    finally:
        local.close()
    with serving(data, cwd=work) as url:
        yield url, work


def _both(hub: tuple[str, Path], who: str, *command: str) -> tuple[object, object]:
    url, work = hub
    local = silkgate(*command, "--data-dir", str(work / "data"), cwd=work)
    remote = silkgate(*command, "--hub", url, "--key-file", str(work / f"{who}.json"), cwd=work)
    return local, remote


@pytest.mark.parametrize(
    ("who", "command", "rows"),
    [
        (OPERATOR, ("agreement", "list"), MANY + 40),
        (OPERATOR, ("filing", "list"), MANY + 40),
        (OPERATOR, ("participant", "list"), 4),
        (EXPORTER, ("agreement", "list", "--exporter", EXPORTER), MANY),
        (EXPORTER, ("filing", "list", "--exporter", EXPORTER), MANY),
        (OPERATOR, ("filing", "list", "--exporter", OTHER), 40),
        (IMPORTER, ("agreement", "list", "--importer", IMPORTER), MANY + 40),
    ],
)
def test_the_same_rows_locally_and_over_the_hub(
    hub: tuple[str, Path], who: str, command: tuple[str, ...], rows: int
) -> None:
    local, remote = _both(hub, who, *command)
    assert isinstance(local, list) and isinstance(remote, list)
    assert len(local) == rows
    assert remote == local


def test_over_the_hub_a_participant_still_sees_only_its_own(hub: tuple[str, Path]) -> None:
    url, work = hub
    key = ("--hub", url, "--key-file", str(work / f"{EXPORTER}.json"))
    agreements = silkgate("agreement", "list", *key, cwd=work)
    assert len(agreements) == MANY and {a["exporter"] for a in agreements} == {EXPORTER}
    assert silkgate("agreement", "list", "--exporter", OTHER, *key, cwd=work) == []
    assert [p["id"] for p in silkgate("participant", "list", *key, cwd=work)] == [EXPORTER]
