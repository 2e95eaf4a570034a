"""Obligations on a span of a string (e.g. a phone number inside a free-text remark)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.transform import SpanObligation, apply_obligations, is_token

KEY = b"s" * 16
REMARK = "call +84 912 345 678 or mail an@x.vn before 5pm"
PATH = "$['remark']"
PHONE = (5, 20)
EMAIL = (29, 36)


def test_spans_are_applied_right_to_left() -> None:
    assert REMARK[slice(*PHONE)] == "+84 912 345 678"
    assert REMARK[slice(*EMAIL)] == "an@x.vn"
    out = apply_obligations(
        {"remark": REMARK},
        [
            SpanObligation(action="mask", path=PATH, finding_type="phone", span=PHONE),
            SpanObligation(action="pseudonymize", path=PATH, finding_type="email", span=EMAIL),
        ],
        pseudonym_key=KEY,
    )
    assert out["remark"].startswith("call +84 *** *** *78 or mail pz_")
    assert is_token(out["remark"].split()[7])
    assert out["remark"].endswith(" before 5pm")


def test_drop_span_removes_the_text() -> None:
    out = apply_obligations(
        {"remark": REMARK},
        [SpanObligation(action="drop", path=PATH, span=PHONE)],
        pseudonym_key=KEY,
    )
    assert out == {"remark": "call  or mail an@x.vn before 5pm"}


def test_span_outside_the_value_is_skipped() -> None:
    out = apply_obligations(
        {"remark": "short"},
        [SpanObligation(action="mask", path=PATH, span=(3, 99))],
        pseudonym_key=KEY,
    )
    assert out == {"remark": "short"}


def test_whole_value_obligation_runs_after_spans() -> None:
    out = apply_obligations(
        {"remark": REMARK},
        [
            SpanObligation(action="mask", path=PATH, finding_type="phone", span=PHONE),
            SpanObligation(action="mask", path=PATH),
        ],
        pseudonym_key=KEY,
    )
    assert out == {"remark": "**** +** *** *** *** ** **** **@*.** ****** ***"}


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=40), data=st.data())
def test_span_masking_is_idempotent(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    obligations = [SpanObligation(action="mask", path="$", finding_type="phone", span=(start, end))]
    once = apply_obligations(text, obligations, pseudonym_key=KEY)
    assert apply_obligations(once, obligations, pseudonym_key=KEY) == once
    assert once[:start] == text[:start] and once[end:] == text[end:]
