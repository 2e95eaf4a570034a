"""silkgate.paths against RFC 9535 section 2.7 (vectors in tests/vectors/) and properties."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from silkgate.errors import InputError, SilkgateError
from silkgate.paths import (
    WILDCARD,
    PathError,
    compile_pattern,
    format_path,
    format_segment,
    from_msgspec_path,
    iter_leaves,
    leaf_paths,
    parent,
    parse_path,
    parse_pattern,
    pattern_matches,
)

VECTORS = json.loads(
    (Path(__file__).parent.parent / "vectors" / "rfc9535_normalized_paths.json").read_text(
        encoding="utf-8"
    )
)

# Any member name a JSON text can carry: every code point except lone surrogates.
names = st.text(st.characters(codec="utf-8"), max_size=12)
tricky = st.text(st.sampled_from(list("'\\[]*$.\"/ \x00\x01\b\t\n\x0b\f\r\x1f\x7fa0é收🚀")))
segments = st.lists(st.one_of(names, tricky, st.integers(min_value=0, max_value=10**12)))


@pytest.mark.parametrize("row", VECTORS["escaping"], ids=lambda r: repr(r["char"]))
def test_escaping_table(row: dict[str, str]) -> None:
    path = f"$['{row['escaped']}']"
    assert format_path([row["char"]]) == path
    assert parse_path(path) == (row["char"],)


@pytest.mark.parametrize("row", VECTORS["valid"], ids=lambda r: r["note"])
def test_valid_vectors(row: dict[str, Any]) -> None:
    assert format_path(row["segments"]) == row["path"]
    assert parse_path(row["path"]) == tuple(row["segments"])
    assert parse_pattern(row["path"]) == tuple(row["segments"])


@pytest.mark.parametrize("row", VECTORS["invalid"], ids=lambda r: r["note"])
def test_invalid_vectors(row: dict[str, Any]) -> None:
    with pytest.raises(PathError) as info:
        parse_path(row["path"])
    assert info.value.position == row["position"], str(info.value)
    assert f"at position {row['position']}" in str(info.value)
    assert isinstance(info.value, InputError) and isinstance(info.value, SilkgateError)
    if row.get("pattern_ok"):
        assert WILDCARD in parse_pattern(row["path"])
    else:
        with pytest.raises(PathError):
            parse_pattern(row["path"])


@pytest.mark.parametrize("row", VECTORS["patterns"], ids=lambda r: f"{r['pattern']} {r['path']}")
def test_pattern_vectors(row: dict[str, Any]) -> None:
    below = row["descendants"]
    assert pattern_matches(row["pattern"], row["path"], descendants=below) is row["match"]
    regex = compile_pattern(row["pattern"], descendants=below)
    assert (regex.match(row["path"]) is not None) is row["match"]


@given(segments)
def test_format_then_parse_is_identity(segs: list[str | int]) -> None:
    path = format_path(segs)
    assert parse_path(path) == tuple(segs)
    assert format_path(parse_path(path)) == path


@given(segments)
def test_formatted_paths_hold_only_normalized_characters(segs: list[str | int]) -> None:
    path = format_path(segs)
    assert not any(ord(c) < 0x20 for c in path)
    # outside escapes, the only apostrophes are the quotes around each name
    unescaped = re.sub(r"\\.", "", path)
    assert unescaped.count("'") == 2 * sum(isinstance(s, str) for s in segs)


@given(segments, segments)
def test_distinct_segments_give_distinct_paths(a: list[str | int], b: list[str | int]) -> None:
    assert (format_path(a) == format_path(b)) is (
        [(type(x), x) for x in a] == [(type(y), y) for y in b]
    )


@given(segments)
def test_parent_drops_the_last_segment(segs: list[str | int]) -> None:
    path = format_path(segs)
    assert parent(path) == format_path(segs[:-1])


@given(segments, st.lists(st.booleans()))
def test_wildcards_match_what_they_replace(segs: list[str | int], stars: list[bool]) -> None:
    pattern = format_path(
        [WILDCARD if i < len(stars) and stars[i] else s for i, s in enumerate(segs)]
    )
    path = format_path(segs)
    assert pattern_matches(pattern, path)
    assert compile_pattern(pattern).match(path)
    below = format_path([*segs, "x'y", 0])
    assert not compile_pattern(pattern).match(below)
    assert compile_pattern(pattern, descendants=True).match(below)
    assert pattern_matches(pattern, below, descendants=True)


@given(
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3)),
        lambda kids: st.one_of(
            st.lists(kids, max_size=3), st.dictionaries(names, kids, max_size=3)
        ),
        max_leaves=12,
    )
)
def test_leaves_walk_to_their_values(value: Any) -> None:
    leaves = list(iter_leaves(value))
    assert leaf_paths(value) == tuple(p for p, _ in leaves)
    assert len(set(leaf_paths(value))) == len(leaves)
    for path, leaf in leaves:
        node = value
        for seg in parse_path(path):
            node = node[seg]
        assert node is leaf
        assert not isinstance(leaf, (dict, list))


def test_leaves_in_document_order() -> None:
    record = {"b": [1, {"c": None}], "a'": "x", "e": {}, "f": []}
    assert leaf_paths(record) == ("$['b'][0]", "$['b'][1]['c']", "$['a\\'']")
    assert leaf_paths(5) == ("$",)


def test_bad_segments_are_refused() -> None:
    for bad in (-1, True, 1.0):
        with pytest.raises(ValueError):
            format_segment(bad)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="surrogate"):
        format_path(["a\ud800"])
    with pytest.raises(PathError, match="surrogate"):
        parse_path("$['\ud800']")


def test_msgspec_locations() -> None:
    assert from_msgspec_path("$") == "$"
    assert from_msgspec_path("$.consignee.phone") == "$['consignee']['phone']"
    assert from_msgspec_path("$.records[3].items[0].sku") == "$['records'][3]['items'][0]['sku']"
    assert from_msgspec_path("$[2]") == "$[2]"
    # msgspec does not name a mapping's key: stop at the mapping
    assert from_msgspec_path("$.m[...].x") == "$['m']"
