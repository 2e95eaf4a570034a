"""The classifier, the policy's path patterns and the transformer name the same nodes.

A finding's path is where the transformer applies an obligation, and the path a rule pack
matches; records whose keys hold quotes, backslashes, brackets and control characters
must not slip through any of them.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.classify import Classifier
from silkgate.classify.subjects import subjects_from_findings
from silkgate.model import Finding, Obligation
from silkgate.paths import WILDCARD, format_path, parse_path
from silkgate.policy.check import record_paths
from silkgate.policy.pack import path_pattern
from silkgate.transform import apply_obligations

KEY = b"k" * 32
NASTY_KEYS = [
    "it's",
    "back\\slash",
    "quote'and\\both",
    "line\nbreak",
    "tab\there",
    "nul\x00",
    "bell\x07",
    "ends with [",
    "['",
    "a]b[c",
    "*",
    "收货人'电话",
]


def _at(record: Any, path: str) -> Any:
    node = record
    for seg in parse_path(path):
        node = node[seg]
    return node


@pytest.mark.parametrize("key", NASTY_KEYS)
def test_findings_are_where_the_transformer_applies_obligations(key: str) -> None:
    record: dict[str, Any] = {
        key: {key: "write to nguyen.van.an@example.vn please", "n": 1},
        "list": [{key: "call +84 912 345 678"}],
        "plain": "nothing here",
    }
    found = Classifier().classify(record).findings
    by_path = {f.path: f for f in found}
    email_path = format_path([key, key])
    phone_path = format_path(["list", 0, key])
    assert email_path in by_path and by_path[email_path].type == "email", found
    assert phone_path in by_path and by_path[phone_path].type == "phone", found
    for f in found:
        assert isinstance(_at(record, f.path), str)
        assert f.path in record_paths(record)

    obligations = [Obligation(action="drop", path=f.path, finding_type=f.type) for f in found]
    out = apply_obligations(record, obligations, pseudonym_key=KEY)
    assert key not in out[key]
    assert out["list"][0] == {}
    assert out[key]["n"] == 1 and out["plain"] == "nothing here"
    assert record[key][key].startswith("write")  # the input is untouched


@pytest.mark.parametrize("key", NASTY_KEYS)
def test_pack_patterns_match_record_paths(key: str) -> None:
    record = {"cargo": [{key: "x"}, {"other": "y"}], key: {"z": 1}}
    paths = record_paths(record)
    assert format_path(["cargo", 0, key]) in paths
    star = path_pattern(format_path(["cargo", WILDCARD, key]))
    assert [p for p in paths if star.match(p)] == [format_path(["cargo", 0, key])]
    below = path_pattern(format_path([key]))
    assert [p for p in paths if below.match(p)] == [format_path([key, "z"])]


def test_masking_reaches_the_finding_under_a_quoted_key() -> None:
    key = "consignee's \\phone\n"
    record = {key: "+86 138 0013 8000"}
    (finding,) = Classifier().classify(record).findings
    assert finding.path == "$['consignee\\'s \\\\phone\\n']"
    ob = Obligation(action="mask", path=finding.path, finding_type=finding.type)
    out = apply_obligations(record, [ob], pseudonym_key=KEY)
    assert out[key] != record[key] and "*" in out[key]


def test_one_subject_per_object_when_a_key_holds_a_bracket() -> None:
    phone = Finding(path=format_path(["c", "tel[1]"]), type="phone", detector="t")
    email = Finding(path=format_path(["c", "mail"]), type="email", detector="t")
    assert len(subjects_from_findings([(phone, "+86 138 0013 8000"), (email, "a@b.cn")])) == 1


names = st.text(st.characters(codec="utf-8"), max_size=8)
values = st.sampled_from(
    ["nguyen.van.an@example.vn", "+84 912 345 678", "13800138000", "plain text", "EE123456789CN"]
)


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        names, st.one_of(values, st.dictionaries(names, values, max_size=3)), max_size=4
    )
)
def test_every_finding_path_names_a_string_of_the_record(record: dict[str, Any]) -> None:
    found = Classifier().classify(record).findings
    leaves = set(record_paths(record))
    for f in found:
        assert f.path in leaves
        assert isinstance(_at(record, f.path), str)
    obligations = [Obligation(action="drop", path=f.path, finding_type=f.type) for f in found]
    out = apply_obligations(record, obligations, pseudonym_key=KEY)
    left = set(record_paths(out))
    assert not any(f.path in left for f in found)
