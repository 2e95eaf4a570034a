"""The per-string profile and its gates skip work, never findings.

``profile.prefilter(False)`` runs every detector on every string with every gate open (the
facts the detectors decide on are then asked one by one, as the detectors used to); the
findings and subjects must be the same both ways, on random strings and on every record of
the evaluation set. The fast forms of the address-marker patterns must find the same marks
as their plain forms.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silkgate.classify import Classifier, RecordClassification, contexts, lexicon, text
from silkgate.classify.detectors import _DATE_GATE
from silkgate.classify.profile import _compute, _compute_plain, prefilter, profile
from silkgate.products.registry import get_product

EVAL_SET = Path(__file__).parents[2] / "bench" / "data" / "classify_eval.ndjson"
_LETTER = re.compile(r"[^\W\d_]")

# Words the detectors look for, so that random strings meet them often.
_WORDS = sorted(
    {
        *lexicon.LATIN_ADDRESS,
        *lexicon.VN_ADDRESS,
        *lexicon.TH_ADDRESS,
        *lexicon.LATIN_TITLES,
        *lexicon.TH_TITLES,
        *lexicon.VN_SURNAMES,
        *list(lexicon.LATIN_NAMES)[:40],
        *list(lexicon.TH_GIVEN)[:20],
        *(w for words in contexts._WORDS.values() for w in words),
        "收件人",
        "王小明",
        "先生",
        "No.",
        "Jalan",
        "Blk",
        "#09-59",
        "粤B",
        "geo:",
        "::1",
        "bin",
    }
)
_CHARS = "0123456789 +-./:@#()_xXABEKSTZabcz,;\n李王路号ถนนจ.ĐđươếỹÀ٣İ"
_PIECE = st.one_of(st.sampled_from(_WORDS), st.text(alphabet=_CHARS, min_size=1, max_size=14))
_STRINGS = st.lists(_PIECE, min_size=1, max_size=7).map(" ".join)
_KEYS = st.sampled_from(["remark", "f1", "phone", "name", "address", "id_no", "card", "note"])


def _classify_both(record: Any, product: str | None = None) -> tuple[Any, Any]:
    def one() -> RecordClassification:
        return Classifier(get_product(product) if product else None).classify(record)

    fast = one()
    with prefilter(False):
        plain = one()
    return fast, plain


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_KEYS, _STRINGS)
def test_findings_are_the_same_with_and_without_the_prefilter(key: str, value: str) -> None:
    fast, plain = _classify_both({key: value, "other": {key: value}})
    assert fast == plain


def _eval_records() -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in EVAL_SET.read_bytes().splitlines()]


def test_the_evaluation_set_gives_the_same_findings_with_and_without_the_prefilter() -> None:
    cases = _eval_records()
    products = {c["product"] for c in cases}
    classifiers = {p: Classifier(None if p == "generic.json" else get_product(p)) for p in products}
    fast = [classifiers[c["product"]].classify(c["record"]) for c in cases]
    with prefilter(False):
        classifiers = {
            p: Classifier(None if p == "generic.json" else get_product(p)) for p in products
        }
        plain = [classifiers[c["product"]].classify(c["record"]) for c in cases]
    assert sum(len(rc.findings) for rc in fast) > 6000  # the set is dense: this compares much
    assert fast == plain


@settings(max_examples=3000, deadline=None)
@given(_STRINGS)
def test_profile_facts_match_their_plain_forms(value: str) -> None:
    fast, plain = _compute(value), _compute_plain(value)
    assert (fast.ascii, fast.digit, fast.han, fast.thai, fast.viet) == (
        plain.ascii,
        plain.digit,
        plain.han,
        plain.thai,
        plain.viet,
    )
    # The triggers that are facts are the same; the gates are exact where they close.
    facts = 8 | 16 | 32  # nonascii, latin_caps, letter_digit
    assert fast.mask & facts == plain.mask & facts
    assert bool(fast.mask & 1) == any(c.isdecimal() for c in value)
    assert bool(fast.mask & 2) == ("@" in value)
    assert bool(fast.mask & 4) == (":" in value)
    letters = [i for i, c in enumerate(value) if _LETTER.match(c)]
    assert fast.first_letter == (letters[0] if letters else len(value))


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=40))
def test_the_ascii_profile_gives_the_facts_of_the_regex_searches(value: str) -> None:
    """ASCII text is profiled from a translation into character classes: every fact and
    trigger as the regex searches give them."""
    fast = _compute(value)
    assert (fast.ascii, fast.han, fast.thai, fast.viet, fast.gated) == (
        True,
        False,
        False,
        False,
        True,
    )
    assert fast.digit == bool(fast.mask & 1) == (re.search(r"\d", value) is not None)
    assert bool(fast.mask & 2) == ("@" in value)
    assert bool(fast.mask & 4) == (":" in value)
    assert not fast.mask & 8
    assert bool(fast.mask & 16) == (re.search(r"[A-Z][a-z]", value) is not None)
    assert bool(fast.mask & 32) == (re.search(r"[A-Z]\d|\d[A-Z]", value) is not None)
    letter = _LETTER.search(value)
    assert fast.first_letter == (len(value) if letter is None else letter.start())


def test_every_word_a_gate_relies_on_holds_a_letter() -> None:
    """``first_letter`` closes the context-word look-ups: sound only if every word of every
    list holds a letter, and lower-casing never turns a non-letter into one."""
    lists = [*contexts._LISTS.values(), contexts._BUSINESS]
    for wl in lists:
        for w in (*wl.single, *wl.ascii_phrases, *wl.other_phrases):
            assert _LETTER.search(w), w
    for c in map(chr, range(0x110000)):
        if not _LETTER.match(c):
            assert not _LETTER.search(c.lower()), hex(ord(c))


@settings(max_examples=3000, deadline=None)
@given(_STRINGS)
def test_marker_patterns_match_their_plain_forms(value: str) -> None:
    fast = text.mark_patterns(fast=True)
    plain = text.mark_patterns(fast=False)
    for f, p in zip(fast, plain, strict=True):
        assert [(m.span(), m.group()) for m in f.finditer(value)] == [
            (m.span(), m.group()) for m in p.finditer(value)
        ]


@pytest.mark.parametrize("value", ["No. 17, Jalan Ampang, 53100 Kuala Lumpur", "ſt 12345 KG"])
def test_marker_patterns_agree_on_examples(value: str) -> None:
    for f, p in zip(text.mark_patterns(fast=True), text.mark_patterns(fast=False), strict=True):
        assert [m.span() for m in f.finditer(value)] == [m.span() for m in p.finditer(value)]


def test_the_profile_of_a_scan_is_not_kept() -> None:
    profile("Gọi 0987 654 321 trước khi giao")
    Classifier().classify({"remark": "Gọi 0987 654 321 trước khi giao"})
    from silkgate.classify import profile as profile_module

    assert profile_module._last[0].text == ""


_PLAIN_DATE_GATE = re.compile(r"\d{4}[-/.年]|[-/.]\d{4}")


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="0123456789-/.年a ٣", max_size=16))
def test_date_gate_matches_its_plain_form(value: str) -> None:
    assert (_DATE_GATE.search(value) is None) == (_PLAIN_DATE_GATE.search(value) is None)
