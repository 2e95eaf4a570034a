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
from silkgate.classify.minors import _age_fields, _age_fields_plain, minor_findings
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
