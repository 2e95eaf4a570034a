"""Paged registry tables in the console, in Chromium against a small hub of its own (the
API tests' cast plus PER_EXPORTER agreements and filings for each exporter): the operator
goes to a second page of agreements and back, an exporter pages its own filings only,
the participants table pages, and a paged page passes the accessibility audit at both
sizes. No request leaves 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from api.cast import CAST, NOW, PRODUCT, PURPOSE, register_cast

from browser.conftest import NetworkLog
from browser.helpers import go, open_console, sign_in, wait_idle
from browser.test_accessibility import SIZES, audit
from browser.world import serve
from silkgate.api.app import create_app
from silkgate.hub import init_hub, open_hub
from silkgate.model import Agreement, Filing, Participant
from silkgate.seal.keys import create_keyring, hpke_public_bytes, save_keyring

PER_EXPORTER = 30
ROWS = 25  # the console's page (PAGE_ROWS in pages/common.js)
EXTRA_PARTICIPANTS = 24  # with the cast's 6: 30, two pages
EXPORTER, OTHER = "cn-exporter", "cn-other-exporter"
IMPORTERS = {EXPORTER: "vn-importer", OTHER: "th-other-importer"}


class Small:
    def __init__(self, url: str, keys: Path) -> None:
        self.url = url
        self.keys = keys

    def key_file(self, who: str) -> Path:
        return self.keys / f"{who}.json"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Small]:
    root = tmp_path_factory.mktemp("paged-console")
    data = root / "data"
    init_hub(data)
    hub = open_hub(data)
    since = NOW - timedelta(days=1)  # as the cast is registered; valid from then on
    rings = {name: create_keyring(name, since) for name in CAST}
    keys = root / "keys"
    keys.mkdir()
    for name, ring in rings.items():
        save_keyring(ring, keys / f"{name}.json")
    register_cast(hub, rings)
    spare = create_keyring("spare", since)
    with hub.store.transaction():
        for n in range(EXTRA_PARTICIPANTS):
            hub.store.put_participant(
                Participant(
                    id=f"vn-carrier-{n:02d}", name=f"Carrier {n}", jurisdiction="VN",
                    roles=("importer",), signing_key=spare.signing[-1].public,
                    hpke_key=hpke_public_bytes(spare.current_hpke(since)[1]),
                )
            )  # fmt: skip
        for exporter, importer in IMPORTERS.items():
            for n in range(PER_EXPORTER):
                hub.store.put_agreement(
                    Agreement(
                        id=f"agr-{exporter}-{n:03d}", exporter=exporter, importer=importer,
                        product=PRODUCT, purpose=PURPOSE, instrument="contract_necessity",
                        valid_from=date(2026, 1, 1),
                    )
                )  # fmt: skip
                hub.store.put_filing(
                    Filing(
                        id=f"fil-{exporter}-{n:03d}", exporter=exporter,
                        kind="standard_contract", recipient=importer,
                        valid_from=date(2026, 1, 1),
                    )
                )  # fmt: skip
    try:
        with serve(create_app(hub=hub)) as url:
            yield Small(url, keys)
    finally:
        hub.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """A fresh context with its network log and page errors checked (as conftest's page)."""
    network = NetworkLog()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.on("request", lambda request: network.urls.append(request.url))
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_default_timeout(15_000)
    yield page
    context.close()
    assert network.urls and network.outside() == [], network.outside()
    assert errors == [], errors


def first_column(page: Any, table: str) -> list[str]:
    cells: list[str] = page.locator(f"{table} tbody tr > :first-child").all_inner_texts()
    return [c.strip() for c in cells]


def pager(page: Any, caption: str) -> Any:
    return page.get_by_role("navigation", name=f"{caption} pages")


def turn(page: Any, caption: str, button: str, table: str, before: list[str]) -> list[str]:
    pager(page, caption).get_by_role("button", name=button).click()
    page.wait_for_function(
        "([sel, first]) => { const c = document.querySelector(sel + ' tbody tr > :first-child');"
        " return c && c.textContent.trim() !== first; }",
        arg=[table, before[0]],
    )
    wait_idle(page)
    return first_column(page, table)


def test_the_operator_pages_agreements_forth_and_back(tab: Any, small: Small) -> None:
    everything = sorted(f"agr-{e}-{n:03d}" for e in IMPORTERS for n in range(PER_EXPORTER))
    everything = sorted([*everything, *(f"agr-{e}-{i}" for e, i in IMPORTERS.items())])
    sign_in(tab, small.url, small.key_file("operator"))
    go(tab, "/operator/agreements")
    caption = "Agreements on file"
    first = first_column(tab, "#agreements")
    assert first == everything[:ROWS]
    assert pager(tab, caption).get_by_role("button", name="← Back").is_disabled()
    second = turn(tab, caption, "More →", "#agreements", first)
    assert second == everything[ROWS : 2 * ROWS]
    assert pager(tab, caption).get_by_text(f"{ROWS + 1}–{2 * ROWS}").is_visible()
    third = turn(tab, caption, "More →", "#agreements", second)
    assert third == everything[2 * ROWS :] and len(third) == len(everything) - 2 * ROWS
    assert pager(tab, caption).get_by_role("button", name="More →").is_disabled()
    back = turn(tab, caption, "← Back", "#agreements", third)
    assert back == second
    # The filings table pages on its own: still on its first page.
    assert first_column(tab, "#filings")[0] == f"fil-{EXPORTER}-000"


def test_an_exporter_pages_its_own_filings_only(tab: Any, small: Small) -> None:
    sign_in(tab, small.url, small.key_file(OTHER))
    go(tab, "/exporter/filings")
    first = first_column(tab, "#filings")
    second = turn(tab, "Filings on record", "More →", "#filings", first)
    assert first + second == [f"fil-{OTHER}-{n:03d}" for n in range(PER_EXPORTER)]
    agreements = first_column(tab, "#agreements")
    assert len(agreements) == ROWS and all(OTHER in a for a in agreements)


def test_the_participants_table_pages(tab: Any, small: Small) -> None:
    sign_in(tab, small.url, small.key_file("operator"))
    go(tab, "/operator/participants")
    first = first_column(tab, "#participants")
    assert len(first) == ROWS and first == sorted(first)
    second = turn(tab, "Participants", "More →", "#participants", first)
    assert len(first) + len(second) == len(CAST) + EXTRA_PARTICIPANTS
    assert second[0] > first[-1]


def test_paged_pages_pass_the_accessibility_audit(tab: Any, small: Small) -> None:
    sign_in(tab, small.url, small.key_file("operator"))
    found: dict[str, list[str]] = {}
    for width, height in SIZES:
        tab.set_viewport_size({"width": width, "height": height})
        for route in ("/operator/participants", "/operator/agreements", "/operator/keys"):
            go(tab, route)
            problems = audit(tab)
            if problems:
                found[f"{route} at {width}x{height}"] = problems
        # ... also on a second page, after the keyboard pressed "More →".
        go(tab, "/operator/agreements")
        more = pager(tab, "Agreements on file").get_by_role("button", name="More →")
        more.focus()
        tab.keyboard.press("Enter")
        tab.wait_for_function("() => document.activeElement.textContent === '← Back'"
                              " || document.activeElement.textContent === 'More →'")  # fmt: skip
        wait_idle(tab)
        problems = audit(tab)
        if problems:
            found[f"second page at {width}x{height}"] = problems
    assert found == {}


def test_the_dry_run_chooser_offers_the_exporters_own_importers(tab: Any, small: Small) -> None:
    sign_in(tab, small.url, small.key_file(EXPORTER))
    go(tab, "/exporter/dry-run")
    options = tab.locator("#dry-importer option").all_inner_texts()
    assert options == [IMPORTERS[EXPORTER]]


NEXT_AFTER_JS = """(values) => import('/console/js/api.js')
  .then(({ nextAfter }) => values.map((v) => nextAfter(v)))"""


def test_the_console_reads_the_next_cursor_from_the_link_header(tab: Any, small: Small) -> None:
    open_console(tab, small.url)
    values = [
        '</v1/agreements?limit=25&after=agr-1>; rel="next"',
        "</v1/agreements?after=a%26b%3Dc&limit=25>; rel=next",
        '</v1/filings?after=p>; rel="prev", </v1/filings?after=n>; rel="next"',
        '</v1/filings?after=x>; title="a, b"; rel="last next"',
        '</v1/filings?after=p>; rel="prev"',
        "",
        None,
    ]
    got = tab.evaluate(NEXT_AFTER_JS, values)
    assert got == ["agr-1", "a&b=c", "n", "x", None, None, None]
