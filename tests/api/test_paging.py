"""Paged registry lists (GET /v1/participants, /v1/agreements, /v1/filings): `limit` rows
after the id `after`, in order of id, with an RFC 8288 `Link: <...>; rel="next"` while more
remain; paging happens over what the caller may see, so a cursor naming another tenant's
row (or no row) reveals nothing; the SDK follows the pages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import msgspec
import pytest

import silkgate.client as client_module
from api.cast import BASE_URL, NOW, PRODUCT, PURPOSE, Env, serve_cast
from silkgate.client import SilkgateClient, next_link
from silkgate.errors import TransportError
from silkgate.model import Agreement, Filing

A, B = "cn-exporter", "cn-other-exporter"
A_IMPORTER, B_IMPORTER = "vn-importer", "th-other-importer"
EACH = 7  # extra agreements and filings per exporter


def _agreement(n: int, exporter: str, importer: str) -> Agreement:
    return Agreement(
        id=f"agr-{n:04d}-{exporter}",
        exporter=exporter,
        importer=importer,
        product=PRODUCT,
        purpose=PURPOSE,
        instrument="contract_necessity",
        valid_from=date(2026, 1, 1),
    )


def _filing(n: int, exporter: str, importer: str) -> Filing:
    return Filing(
        id=f"fil-{n:04d}-{exporter}",
        exporter=exporter,
        kind="standard_contract",
        recipient=importer,
        valid_from=NOW.date(),
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """The cast with EACH agreements and filings per exporter, their ids interleaved."""
    with serve_cast(tmp_path_factory.mktemp("paging")) as env:
        with env.hub.store.transaction():
            for n in range(2 * EACH):
                exporter, importer = (A, A_IMPORTER) if n % 2 == 0 else (B, B_IMPORTER)
                env.hub.store.put_agreement(_agreement(n, exporter, importer))
                env.hub.store.put_filing(_filing(n, exporter, importer))
        yield env


def get(env: Env, who: str, path: str, **params: Any) -> httpx.Response:
    return env.clients[who].request("GET", path, params=params, check=False)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def walk(env: Env, who: str, path: str, **params: Any) -> list[list[str]]:
    """Every page, following the Link headers by hand."""
    pages = [get(env, who, path, **params)]
    while (link := next_link(pages[-1])) is not None:
        query = {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
        assert urlsplit(link).path == path
        pages.append(get(env, who, path, **query))
        assert len(pages) < 100
    return [ids(p) for p in pages]


# -- order, pages and the Link header ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/participants", "/v1/agreements", "/v1/filings"])
def test_pages_cover_every_row_once_in_order_of_id(world: Env, path: str) -> None:
    everything = ids(get(world, "operator", path, limit=500))
    assert everything == sorted(everything) and len(everything) >= 6
    pages = walk(world, "operator", path, limit=4)
    assert all(len(p) == 4 for p in pages[:-1]) and 1 <= len(pages[-1]) <= 4
    assert [i for p in pages for i in p] == everything
    last = get(world, "operator", path, limit=4, after=pages[-1][-1])
    assert last.json() == [] and "link" not in last.headers


def test_the_link_names_the_same_query_after_the_last_id(world: Env) -> None:
    response = get(world, "operator", "/v1/agreements", limit=3, exporter=A)
    link = response.headers["link"]
    target = next_link(response)
    assert target is not None and link == f'<{target}>; rel="next"'
    assert urlsplit(target).path == "/v1/agreements"
    query = parse_qs(urlsplit(target).query)
    assert query == {"exporter": [A], "limit": ["3"], "after": [ids(response)[-1]]}


def test_no_link_when_the_page_holds_the_rest(world: Env) -> None:
    response = get(world, "operator", "/v1/agreements", exporter=A, limit=EACH + 1)
    assert len(ids(response)) == EACH + 1  # EACH + the cast's own agreement
    assert "link" not in response.headers
    one_short = get(world, "operator", "/v1/agreements", exporter=A, limit=EACH)
    assert "link" in one_short.headers


# -- filters ----------------------------------------------------------------------------------


def test_filters_narrow_to_one_party(world: Env) -> None:
    exported = ids(get(world, "operator", "/v1/agreements", exporter=B, limit=500))
    assert exported and all(B in i for i in exported)
    imported = ids(get(world, "operator", "/v1/agreements", importer=A_IMPORTER, limit=500))
    assert imported and all(A in i for i in imported)
    filings = ids(get(world, "operator", "/v1/filings", exporter=A, limit=500))
    assert len(filings) == EACH and all(i.endswith(A) for i in filings)


def test_a_filter_naming_another_tenant_shows_nothing(world: Env) -> None:
    assert ids(get(world, A, "/v1/agreements", exporter=B)) == []
    assert ids(get(world, A, "/v1/filings", exporter=B)) == []
    assert ids(get(world, A_IMPORTER, "/v1/agreements", importer=B_IMPORTER)) == []


# -- as an attacker: cursors never reveal another tenant's rows -------------------------------


def _visible_after(everything: list[str], cursor: str) -> list[str]:
    return [i for i in everything if i > cursor]


@pytest.mark.parametrize("path", ["/v1/agreements", "/v1/filings"])
def test_cursors_naming_another_tenants_rows_reveal_nothing(world: Env, path: str) -> None:
    mine = ids(get(world, A, path, limit=500))
    theirs = ids(get(world, B, path, limit=500))
    assert mine and theirs and not set(mine) & set(theirs)
    for cursor in theirs:
        # A position only: B's id and an id that names no row at the same position (one
        # character more sorts right after it, before any longer real id) answer alike.
        named = get(world, A, path, after=cursor, limit=2)
        absent = get(world, A, path, after=cursor + "\x00", limit=2)
        assert named.status_code == absent.status_code == 200
        assert ids(named) == ids(absent) == _visible_after(mine, cursor)[:2]
        assert named.content == absent.content
        assert not set(ids(named)) & set(theirs)
        link = next_link(named)
        assert (link is None) == (next_link(absent) is None)
        if link is not None:
            assert parse_qs(urlsplit(link).query)["after"] == [ids(named)[-1]]


def test_a_cursor_naming_no_row_pages_on_from_its_position(world: Env) -> None:
    everything = ids(get(world, "operator", "/v1/agreements", limit=500))
    for cursor in ("", "agr-0003", "agr-9999-nothing", "zzz", "\u4e2d\u6587", "../../etc"):
        got = ids(get(world, "operator", "/v1/agreements", after=cursor, limit=500))
        assert got == _visible_after(everything, cursor)
    assert ids(get(world, "operator", "/v1/agreements", after="zzz")) == []


def test_odd_ids_survive_the_link(tmp_path: Path) -> None:
    """Ids with characters a query must escape page one by one, none lost or repeated."""
    odd = ["agr a&b=c", "agr+plus", "agr#frag", "agr%41", "agr/x?y", "agr\u4e2d\u6587", "agr>,<"]
    with serve_cast(tmp_path) as env:
        with env.hub.store.transaction():
            for name in odd:
                env.hub.store.put_agreement(
                    msgspec.structs.replace(_agreement(0, A, A_IMPORTER), id=name)
                )
        expected = sorted(
            [*odd, *(a.id for a in env.hub.store.list_agreements() if a.id not in odd)]
        )
        assert [i for p in walk(env, "operator", "/v1/agreements", limit=1) for i in p] == expected
        assert [a.id for a in env.clients["operator"].agreements()] == expected


def test_an_exporter_sees_only_itself_on_every_page(world: Env) -> None:
    assert walk(world, A, "/v1/participants", limit=1) == [[A]]
    assert ids(get(world, A, "/v1/participants", after=A)) == []
    assert ids(get(world, A, "/v1/participants", after="")) == [A]


def test_an_importer_pages_the_filings_that_name_it(world: Env) -> None:
    pages = walk(world, A_IMPORTER, "/v1/filings", limit=2)
    seen = [i for p in pages for i in p]
    assert len(seen) == EACH and all(i.endswith(A) for i in seen)
    assert len(pages) == (EACH + 1) // 2


def test_the_hub_reads_the_store_a_page_at_a_time(
    world: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An importer sees every other filing (those naming it): each page is topped up from
    the store's next page, and no read asks the store for more than a page and one row."""
    store = world.hub.store
    asked: list[int | None] = []
    listing = store.list_filings

    def recorded(**kwargs: Any) -> list[Filing]:
        asked.append(kwargs.get("limit"))
        return listing(**kwargs)

    monkeypatch.setattr(store, "list_filings", recorded)
    pages = walk(world, A_IMPORTER, "/v1/filings", limit=3)
    assert [i for p in pages for i in p] == sorted(i for p in pages for i in p)
    assert sum(map(len, pages)) == EACH and all(len(p) == 3 for p in pages[:-1])
    assert asked and all(n == 4 for n in asked)
    assert len(asked) > len(pages)  # pages were topped up from the next store page


@pytest.mark.parametrize("path", ["/v1/participants", "/v1/agreements", "/v1/filings"])
@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5"])
def test_a_limit_out_of_range_is_refused(world: Env, path: str, limit: str) -> None:
    response = get(world, "operator", path, limit=limit)
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "input" and "limit" in body["message"]


def test_paging_is_documented_in_openapi(world: Env) -> None:
    document = world.http.get("/openapi.json").json()
    for path in ("/v1/participants", "/v1/agreements", "/v1/filings"):
        operation = document["paths"][path]["get"]
        params = {p["name"]: p for p in operation["parameters"]}
        assert params["limit"]["schema"]["minimum"] == 1
        assert params["limit"]["schema"]["maximum"] == 500
        assert params["limit"]["schema"]["default"] == 100
        assert "after" in params
        assert "422" in operation["responses"]
        assert "Link" in operation["responses"]["200"]["headers"]
    assert "exporter" in {p["name"] for p in document["paths"]["/v1/filings"]["get"]["parameters"]}


# -- the SDK follows the pages ----------------------------------------------------------------


def test_the_sdk_follows_every_page(world: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "PAGE_LIMIT", 3)
    operator = world.clients["operator"]
    assert [a.id for a in operator.agreements()] == [
        a.id for a in world.hub.store.list_agreements()
    ]
    assert [f.id for f in operator.filings(exporter=B)] == [
        f.id for f in world.hub.store.list_filings(exporter=B)
    ]
    assert [p.id for p in operator.participants()] == sorted(
        p.id for p in world.hub.store.list_participants()
    )
    mine = world.clients[A].agreements()
    assert len(mine) == EACH + 1 and {a.exporter for a in mine} == {A}
    assert world.clients[A].agreements(exporter=B) == []


def test_the_sdk_gets_more_than_one_default_page(tmp_path: Path) -> None:
    with serve_cast(tmp_path) as env:
        with env.hub.store.transaction():
            for n in range(client_module.PAGE_LIMIT + 20):
                env.hub.store.put_agreement(_agreement(n, A, A_IMPORTER))
        default = get(env, "operator", "/v1/agreements")
        assert len(ids(default)) == 100 and "link" in default.headers
        got = env.clients["operator"].agreements()
        assert len(got) == client_module.PAGE_LIMIT + 20 + 2  # and the cast's two
        assert [a.id for a in got] == sorted(a.id for a in env.hub.store.list_agreements())


# -- the SDK against a hostile hub: it follows no link off the hub or the route -------------


def _hostile(link: str) -> SilkgateClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[], headers={"Link": f'<{link}>; rel="next"'})

    from silkgate.seal.keys import create_keyring

    http = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(answer))
    return SilkgateClient(BASE_URL, create_keyring("x", NOW), http=http, clock=lambda: NOW)


@pytest.mark.parametrize(
    "link",
    [
        "https://attacker.example/v1/agreements?after=x",
        "//attacker.example/v1/agreements?after=x",
        "/v1/participants?after=x",
        "http://testserver:8080/v1/agreements?after=x",
    ],
)
def test_the_sdk_follows_no_link_off_the_hub_or_the_route(link: str) -> None:
    with pytest.raises(TransportError, match="refusing to follow"):
        _hostile(link).agreements()


def test_the_sdk_stops_on_a_link_that_repeats_a_page() -> None:
    with pytest.raises(TransportError, match="repeats a page"):
        _hostile("/v1/agreements?limit=500&after=x").agreements()


# -- the Link header parser -------------------------------------------------------------------


def _with_link(*values: str) -> httpx.Response:
    return httpx.Response(200, headers=[("Link", v) for v in values])


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (['</a?after=1>; rel="next"'], "/a?after=1"),
        (["</a?after=1>; rel=next"], "/a?after=1"),
        (['</p>; rel="prev", </n>; rel="next"'], "/n"),
        (['</p>; rel="prev"', '</n>; rel="next"'], "/n"),
        (['</x,y>; rel="prev", </n,m>; title="a, b"; rel="next last"'], "/n,m"),
        (['</a>; REL="Next"'], "/a"),
        (['</a>; rel="prev"'], None),
        (['</a>; rel="nextish"'], None),
        ([], None),
    ],
)
def test_next_link_reads_rfc_8288(values: list[str], expected: str | None) -> None:
    assert next_link(_with_link(*values)) == expected


def test_rows_decode_as_the_models(world: Env) -> None:
    response = get(world, "operator", "/v1/filings", limit=2)
    assert len(msgspec.json.decode(response.content, type=list[Filing])) == 2
