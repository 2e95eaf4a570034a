"""`minor` findings: children under 14 on the day of the decision (PIPL Art. 28), from a date
of birth, a Chinese resident ID or an age field; both sides of the 14th birthday."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from silkgate.classify import Classifier
from silkgate.classify.minors import (
    _PERSONAL,
    AGE_KEYS,
    MINOR_AGE,
    _age,
    _age_fields,
    _age_fields_plain,
    _birth_date,
    _minor,
    _no_age_key,
    _whole,
    minor_findings,
)
from silkgate.model import Finding
from silkgate.policy.check import CheckOptions, check_records
from silkgate.policy.engine import PolicyEngine
from silkgate.products import get_product

ON = date(2026, 11, 29)
CLASSIFIER = Classifier(get_product("generic.json"))


def cn_id(birth: str) -> str:
    body = f"110101{birth}123"
    return body + ric.calc_check_digit(body)


def minors(record: Any, on: date = ON) -> list[tuple[str, str]]:
    found = CLASSIFIER.classify(record).findings
    return [(f.path, f.detector) for f in minor_findings(record, found, on)]


@pytest.mark.parametrize(
    ("born", "minor"),
    [
        ("2012-11-30", True),  # 13 until tomorrow
        ("2012-11-29", False),  # 14 today
        ("2015-03-01", True),
        ("1980-03-01", False),
    ],
)
def test_a_date_of_birth_makes_a_minor_until_the_14th_birthday(born: str, minor: bool) -> None:
    record = {"passenger": {"name": "Nguyen Van An", "date_of_birth": born}}
    expected = [("$['passenger']['date_of_birth']", "minor.date_of_birth")] if minor else []
    assert minors(record) == expected


def test_day_month_year_dates_are_read_as_written() -> None:
    assert minors({"name": "Lim Wei Ming", "dob": "30/11/2012"}) == [
        ("$['dob']", "minor.date_of_birth")
    ]
    assert minors({"name": "Lim Wei Ming", "dob": "29/11/2012"}) == []


def test_a_chinese_resident_id_of_a_child_makes_a_minor() -> None:
    assert minors({"name": "张小明", "id_no": cn_id("20150301")}) == [
        ("$['id_no']", "minor.national_id")
    ]
    assert minors({"name": "张大明", "id_no": cn_id("19800301")}) == []


def test_an_age_field_below_14_makes_a_minor() -> None:
    record = {"passenger": {"name": "Nguyen Van An", "age": 9}}
    assert minors(record) == [("$['passenger']['age']", "minor.age")]
    assert minors({"passenger": {"name": "Nguyen Van An", "age": "14"}}) == []
    assert minors({"parcel": {"age": 3}}) == []  # nobody identifiable: no minor


def test_the_cn_pack_treats_a_child_as_sensitive_in_a_dry_run() -> None:
    records = [
        {"name": "Nguyen Van An", "phone": "+84 912 345 678", "dob": "2015-03-01"},
        {"name": "Nguyen Van Binh", "phone": "+84 912 345 679", "dob": "1980-03-01"},
    ]
    opts = CheckOptions(
        origin="CN", destination="VN", product="generic.json", on=ON, purpose="analytics",
        filings=("standard_contract",),
    )  # fmt: skip
    child, adult = check_records(
        PolicyEngine.default(), [CLASSIFIER.classify(r) for r in records], opts, records=records
    )
    assert "minor" in child.facts["types"] and "sensitive_pi" in child.facts["categories"]
    assert "minor" not in adult.facts["types"]
    assert "cn.pipl31.minor" in {d["id"] for d in child.facts.get("duties", [])}


_KEY = st.one_of(
    st.sampled_from(["age", "AGE", "Age", "年龄", "Tuổi", "USIA", "name", "dob", "buyer"]),
    st.text(alphabet="aAgGeE年龄 _", max_size=4),
    st.integers(0, 3),
)
_LEAF = st.one_of(st.integers(-2, 20), st.text(alphabet="0123 ", max_size=3), st.none())
_RECORDS = st.dictionaries(
    _KEY,
    st.one_of(_LEAF, st.dictionaries(_KEY, st.one_of(_LEAF, st.dictionaries(_KEY, _LEAF)))),
    max_size=6,
)


@settings(max_examples=2000, deadline=None)
@given(_RECORDS)
def test_age_fields_fast_path_matches_the_key_by_key_loop(record: dict[Any, Any]) -> None:
    assert list(_age_fields(record)) == list(_age_fields_plain(record))


def _plain_no_age_key(record: dict[Any, Any]) -> bool:
    keys = list(record) + [k for v in record.values() if isinstance(v, dict) for k in v]
    return not any(str.lower(k) in AGE_KEYS for k in keys)  # TypeError on a key not a str


@settings(max_examples=2000, deadline=None)
@given(st.lists(_RECORDS, min_size=1, max_size=4))
def test_known_keys_give_the_same_answer_as_lowering_every_key(records: list[Any]) -> None:
    # Several records in a row: keys the first teach are taken as known by the next ones.
    for record in records + records:
        try:
            expected: bool | type[TypeError] = _plain_no_age_key(record)
        except TypeError:
            expected = TypeError
        try:
            got: bool | type[TypeError] = _no_age_key(record)
        except TypeError:
            got = TypeError
        assert got == expected


def _plain_minor_findings(record: Any, findings: list[Finding], on: date) -> tuple[Finding, ...]:
    """minor_findings as first written: a test for any personal finding, then a pass over
    the findings and one over every age field."""
    if not any(f.type in _PERSONAL for f in findings):
        return ()
    out: dict[str, Finding] = {}
    for f in findings:
        born = _birth_date(record, f)
        if born is not None and _age(born, on) < MINOR_AGE:
            out.setdefault(f.path, _minor(f.path, f"minor.{f.type}", f.confidence))
    for path, value in _age_fields_plain(record) if isinstance(record, dict) else ():
        age = _whole(value) if isinstance(value, int | str) else None
        if age is not None and 0 <= age < MINOR_AGE:
            out.setdefault(path, _minor(path, "minor.age", "high"))
    return tuple(out.values())


_BORN = st.dates(date(2005, 1, 1), date(2020, 12, 31))
_HOLDER = st.fixed_dictionaries(
    {
        "name": st.just("Tran Thi Mai"),
        "dob": _BORN.map(lambda d: d.isoformat()),
        "id_no": _BORN.map(lambda d: cn_id(d.strftime("%Y%m%d"))),
    },
    optional={"age": _LEAF, "Age": _LEAF, "tuổi": _LEAF},
)
_TYPES = st.sampled_from(
    ["person_name", "date_of_birth", "national_id", "passport", "phone", "email"]
)


@settings(max_examples=1500, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["buyer", "consignee", "note", "AGE"]), _HOLDER, max_size=3),
    st.lists(
        st.tuples(
            st.sampled_from(["buyer", "consignee", "nobody"]),
            st.sampled_from(["name", "dob", "id_no"]),
            _TYPES,
            st.sampled_from([None, "CN", "VN"]),
        ),
        max_size=6,
    ),
)
def test_minor_findings_match_their_plain_form(
    record: dict[str, Any], picks: list[tuple[str, str, str, str | None]]
) -> None:
    findings = [
        Finding(path=f"$['{holder}']['{key}']", type=ftype, detector="t", country=country)  # type: ignore[arg-type]
        for holder, key, ftype, country in picks
    ]
    assert minor_findings(record, findings, ON) == _plain_minor_findings(record, findings, ON)
