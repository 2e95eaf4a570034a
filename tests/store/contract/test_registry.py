"""RegistryPort contract: participants, agreements, filings (every implementation)."""

from __future__ import annotations

import pytest

from silkgate.errors import NotFoundError
from silkgate.store.ports import RegistryPort

from .builders import agreement, filing, participant


def test_participants_crud(store: RegistryPort) -> None:
    store.put_participant(participant("p_b"))
    store.put_participant(participant("p_a"))
    store.put_participant(participant("p_b", name="renamed"))
    assert store.get_participant("p_b").name == "renamed"
    assert store.get_participant("p_a") == participant("p_a")
    assert [p.id for p in store.list_participants()] == ["p_a", "p_b"]
    with pytest.raises(NotFoundError, match="p_zz"):
        store.get_participant("p_zz")


def test_agreements_filters_and_not_found(store: RegistryPort) -> None:
    store.put_agreement(agreement("a_1", "p_x", "p_vn"))
    store.put_agreement(agreement("a_2", "p_x", "p_th"))
    store.put_agreement(agreement("a_3", "p_y", "p_vn"))
    assert store.get_agreement("a_2") == agreement("a_2", "p_x", "p_th")
    assert [a.id for a in store.list_agreements()] == ["a_1", "a_2", "a_3"]
    assert [a.id for a in store.list_agreements(exporter="p_x")] == ["a_1", "a_2"]
    assert [a.id for a in store.list_agreements(importer="p_vn")] == ["a_1", "a_3"]
    assert [a.id for a in store.list_agreements(exporter="p_y", importer="p_vn")] == ["a_3"]
    assert store.list_agreements(exporter="p_none") == []
    with pytest.raises(NotFoundError):
        store.get_agreement("a_9")


def test_filings(store: RegistryPort) -> None:
    store.put_filing(filing("f_2", "p_x"))
    store.put_filing(filing("f_1", "p_y"))
    assert store.list_filings() == [filing("f_1", "p_y"), filing("f_2", "p_x")]
    assert store.list_filings(exporter="p_x") == [filing("f_2", "p_x")]
    assert store.get_filing("f_1") == filing("f_1", "p_y")
    with pytest.raises(NotFoundError, match="f_9"):
        store.get_filing("f_9")


def test_listings_page_by_id(store: RegistryPort) -> None:
    """`after` and `limit`: a page of a listing in order of id by code point ("B" < "a" <
    "é"), the next page after the last id; filters apply before the page is cut."""
    for pid in ("p_é", "p_a", "p_B", "p_c"):
        store.put_participant(participant(pid))
    for n, exporter in enumerate(("p_x", "p_y", "p_x", "p_x", "p_y")):
        store.put_agreement(agreement(f"a_{n}", exporter, "p_vn"))
        store.put_filing(filing(f"f_{n}", exporter))
    assert [p.id for p in store.list_participants()] == ["p_B", "p_a", "p_c", "p_é"]
    assert [p.id for p in store.list_participants(limit=2)] == ["p_B", "p_a"]
    assert [p.id for p in store.list_participants(after="p_a", limit=2)] == ["p_c", "p_é"]
    assert [p.id for p in store.list_participants(after="p_b")] == ["p_c", "p_é"]  # no such id
    assert store.list_participants(after="p_é") == []
    assert [a.id for a in store.list_agreements(exporter="p_x", limit=2)] == ["a_0", "a_2"]
    assert [a.id for a in store.list_agreements(exporter="p_x", after="a_2")] == ["a_3"]
    assert [a.id for a in store.list_agreements(importer="p_vn", after="a_3")] == ["a_4"]
    assert [f.id for f in store.list_filings(exporter="p_y", after="f_1", limit=5)] == ["f_4"]
    assert [f.id for f in store.list_filings(after="f_0", limit=1)] == ["f_1"]
