"""Issue #13: validators never throw real identifiers away; stricter checks become evidence
and confidence, not a gate."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import ric as cn_ric

from silkgate.classify import Classifier, checks
from silkgate.classify.evidence import confidence
from silkgate.demo.synth import luhn_complete
from silkgate.errors import PolicyError
from silkgate.model import Finding
from silkgate.policy.confidence import personal_findings
from silkgate.policy.engine import PolicyEngine
from silkgate.products import get_product
from silkgate.records_io import read_records

CLF = Classifier()
ROOT = Path(__file__).parent.parent.parent
PROVINCES = {"45": range(1, 15), "53": range(1, 35), "44": range(1, 54)}  # 4501..4514, ...


def _found(record: dict[str, Any], ftype: str, path: str) -> Finding:
    matching = [f for f in CLF.classify(record).findings if f.type == ftype and f.path == path]
    assert matching, f"no {ftype} at {path} in {record}: {CLF.classify(record).findings}"
    return matching[0]


def _cn_id(region: str, year: int, rng: random.Random) -> str:
    body = (
        f"{region}{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    return body + cn_ric.calc_check_digit(body + "0")  # stdnum's own check character


def _counties(province: str) -> list[str]:
    """Every code python-stdnum lists under the province's prefectures (real codes, current
    and historical; the prefecture's own code too, which early IDs carry)."""
    return sorted(
        code
        for code in checks.cn_region_years()
        if code[:2] == province and int(code[2:4]) in PROVINCES[province] and code[4:] != "00"
    )


@pytest.mark.parametrize("province", sorted(PROVINCES))
def test_cn_ids_from_every_prefecture_of_guangxi_yunnan_guangdong(province: str) -> None:
    rng = random.Random(province)
    counties = _counties(province)
    prefectures = {c[:4] for c in counties}
    # Guangxi's 14 prefectures (4501-4514), Yunnan's and Guangdong's current ones.
    current = {"45": 14, "53": 16, "44": 21}[province]
    assert len(prefectures) >= current
    missed = []
    for county in counties:
        for year in (1940, rng.randint(1941, 2009), 2010):
            number = _cn_id(county, year, rng)
            keyed = [f for f in CLF.classify({"id_no": number}).findings]
            text = [f for f in CLF.classify({"remark": f"收件人身份证号 {number}"}).findings]
            if not (
                [(f.type, f.country, f.confidence) for f in keyed]
                == [("national_id", "CN", "high")]
                and [(f.type, f.country) for f in text] == [("national_id", "CN")]
            ):
                missed.append((number, keyed, text))
    assert not missed, missed[:5]


def test_a_code_created_after_the_birth_is_evidence_not_a_gate() -> None:
    rng = random.Random(1)
    number = _cn_id("451481", 1975, rng)  # Pingxiang's code dates from 2002
    assert not cn_ric.is_valid(number)  # python-stdnum rejects it
    f = _found({"id_no": number}, "national_id", "$['id_no']")
    assert f.confidence == "high"
    assert {"checksum", "date", "region", "region_later_than_birth"} <= set(f.evidence)
    later = _found({"id_no": _cn_id("451481", 2005, rng)}, "national_id", "$['id_no']")
    assert "region_later_than_birth" not in later.evidence


@pytest.mark.parametrize(
    "number",
    [
        "459999198001011234",  # no such region, ever
        "451481198002301234",  # 30 February
        "451481189901011234",  # before 1900
    ],
)
def test_cn_ids_that_are_not_ids(number: str) -> None:
    fixed = number[:17] + cn_ric.calc_check_digit(number[:17] + "0")
    assert not checks.cn_resident_id(fixed)
    assert CLF.classify({"id_no": fixed}).findings == () or all(
        f.type != "national_id" for f in CLF.classify({"id_no": fixed}).findings
    )


def test_a_wrong_check_character_is_refused() -> None:
    good = _cn_id("450681", 1990, random.Random(3))
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    assert checks.cn_resident_id(good) and not checks.cn_resident_id(bad)


# ------------------------------------------------------------------ keyed fields

UNKNOWN_IIN = ["9704", "6080", "8100", "5018", "7010"]  # NAPAS, RuPay, private labels


@pytest.mark.parametrize("prefix", UNKNOWN_IIN)
@pytest.mark.parametrize("key", ["card_number", "cardNumber", "so_the", "pan"])
def test_keyed_cards_outside_the_iin_table_are_medium(prefix: str, key: str) -> None:
    number = luhn_complete(prefix + "12345678901")
    assert checks.card_brand(number) is None and checks.luhn_valid(number)
    f = _found({"payment": {key: number}}, "bank_card", f"$['payment']['{key}']")
    assert f.confidence == "medium"
    assert set(f.evidence) == {"key", "checksum", "no_iin"}
    # The same number under a key that says nothing: Luhn alone proves nothing.
    assert all(f.type != "bank_card" for f in CLF.classify({"ref": number}).findings)


def test_a_keyed_card_failing_luhn_is_not_a_card() -> None:
    number = luhn_complete("970412345678901")
    broken = number[:-1] + str((int(number[-1]) + 1) % 10)
    types = {f.type for f in CLF.classify({"card_number": broken}).findings}
    assert "bank_card" not in types


def test_a_known_card_under_its_key_is_high() -> None:
    f = _found({"card_no": luhn_complete("411111111111111")}, "bank_card", "$['card_no']")
    assert f.confidence == "high" and "iin" in f.evidence


UNALLOCATED = [
    ("+86 154 1234 5678", "CN"),
    ("+86 179 1234 5678", "CN"),
    ("+86 194 1234 5678", "CN"),
    ("17912345678", None),
    ("+65 9912 3456", "SG"),
    ("+60 13-012 3456", "MY"),
    ("013-0123456", None),
    ("+63 913 123 4567", "PH"),  # (written nationally, 0913 is a valid Vietnamese mobile)
]


@pytest.mark.parametrize(("value", "country"), UNALLOCATED)
@pytest.mark.parametrize("key", ["phone", "mobile", "tel", "sdt"])
def test_keyed_phones_the_plan_calls_unallocated_are_medium(
    value: str, country: str | None, key: str
) -> None:
    f = _found({"consignee": {key: value}}, "phone", f"$['consignee']['{key}']")
    assert f.confidence == "medium"
    assert set(f.evidence) == {"key", "no_numbering_plan"}
    if country is not None:
        assert f.country == country


@pytest.mark.parametrize(("value", "country"), UNALLOCATED)
def test_unallocated_numbers_without_a_key(value: str, country: str | None) -> None:
    findings = CLF.classify({"f3": value}).findings
    if value.startswith("+"):  # the shape alone: reported as low, not personal data
        assert [(f.type, f.confidence) for f in findings] == [("phone", "low")]
        assert personal_findings({}, findings) == ()
        assert personal_findings({"min_confidence": "low"}, findings) == findings
    else:
        assert findings == ()


def test_an_allocated_number_under_a_phone_key_is_high() -> None:
    f = _found({"phone": "+86 138 1234 5678"}, "phone", "$['phone']")
    assert f.confidence == "high" and "numbering_plan" in f.evidence


def test_a_phone_key_does_not_turn_any_digits_into_a_phone() -> None:
    for value in ("12", "0000000", "+86 12", "+999 1234 5678 9999"):
        assert all(f.type != "phone" for f in CLF.classify({"phone": value}).findings), value


# ------------------------------------------------------------------ NIK, MyKad


def _nik_and_card() -> str:
    """A Bali NIK (region 5171) that is also a Luhn-valid Mastercard-range number."""
    for serial in range(1, 10000):
        nik = f"517101410590{serial:04d}"
        if checks.luhn_valid(nik):
            assert checks.id_nik_valid(nik) and checks.bank_card_valid(nik)
            return nik
    raise AssertionError("no such number")


def test_nik_versus_card_words_decide() -> None:
    nik = _nik_and_card()
    assert _found({"remark": f"NIK {nik}"}, "national_id", "$['remark']").country == "ID"
    assert _found({"remark": f"No. KTP: {nik}"}, "national_id", "$['remark']")
    card = _found({"remark": f"Kartu kredit {nik}"}, "bank_card", "$['remark']")
    assert card.confidence == "high"
    grouped = " ".join(nik[i : i + 4] for i in range(0, 16, 4))
    assert _found({"remark": f"NIK {grouped}"}, "bank_card", "$['remark']")
    assert _found({"nik": nik}, "national_id", "$['nik']").confidence == "high"
    assert _found({"card_number": nik}, "bank_card", "$['card_number']").confidence == "high"


def test_nik_of_a_province_the_region_list_lacks() -> None:
    nik = "9301014105900012"  # South Papua (2022): not in python-stdnum's list
    assert not checks.id_nik_valid(nik) and checks.id_nik_shape(nik)
    f = _found({"remark": f"NIK penerima {nik}"}, "national_id", "$['remark']")
    assert (f.country, f.confidence) == ("ID", "medium") and "no_region" in f.evidence
    assert all(f.type != "national_id" for f in CLF.classify({"v": nik}).findings)


def test_mykad_with_an_unlisted_place_code() -> None:
    number = "850101-19-5432"  # place code 19: not in the published list
    digits = number.replace("-", "")
    assert not checks.my_nric_valid(digits) and checks.my_nric_shape(digits)
    f = _found({"remark": f"No. IC penerima {number}"}, "national_id", "$['remark']")
    assert (f.country, f.confidence) == ("MY", "medium") and "no_place" in f.evidence
    listed = _found({"remark": "No. IC 850101-14-5432"}, "national_id", "$['remark']")
    assert listed.confidence == "high" and "place" in listed.evidence


# ------------------------------------------------------------------ nothing new on business data


def _eval_module() -> Any:
    spec = importlib.util.spec_from_file_location("classify_eval", ROOT / "bench/classify_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["classify_eval"] = module
    spec.loader.exec_module(module)
    return module


def test_no_findings_on_the_300_business_only_records() -> None:
    cases = [c for c in _eval_module().build() if c["category"] == "business_only"]
    assert len(cases) == 300
    found = [(i, f) for i, c in enumerate(cases) for f in CLF.classify(c["record"]).findings]
    assert found == []


def test_no_new_findings_on_gs1_epcis_examples() -> None:
    doc = ROOT / "tests/vectors/classify/epcis_all_events.json"
    with_product = Classifier(get_product("logistics.epcis-event"))
    for event in read_records(doc):
        assert with_product.classify(event).findings == ()
        # Without the product, only the geo: URI a read point may carry is a location.
        assert {f.type for f in CLF.classify(event).findings} <= {"precise_location"}


# ------------------------------------------------------------------ policy


def test_policy_counts_medium_and_above_and_a_pack_can_change_it() -> None:
    low = Finding(path="$['a']", type="phone", detector="t", confidence="low")
    medium = Finding(path="$['b']", type="bank_card", detector="t", confidence="medium")
    high = Finding(path="$['c']", type="email", detector="t")
    both = (low, medium, high)
    assert personal_findings({}, both) == (medium, high)
    assert personal_findings({"min_confidence": "high"}, both) == (high,)
    assert personal_findings({"min_confidence": "low"}, both) == both
    with pytest.raises(PolicyError, match="min_confidence"):
        personal_findings({"min_confidence": "sure"}, both)


def test_the_engine_ignores_a_low_finding_by_default() -> None:
    from silkgate.policy.engine import RecordInput, make_shape

    engine = PolicyEngine.default()
    chain = engine.chain("CN")
    low = Finding(path="$['note']", type="phone", detector="numbers", confidence="low")
    shape = make_shape(chain, "generic.json", "logistics", "other", RecordInput((low,), ()))
    assert shape.types == frozenset() and shape.findings == ()
    medium = Finding(path="$['note']", type="phone", detector="numbers", confidence="medium")
    shape = make_shape(chain, "generic.json", "logistics", "other", RecordInput((medium,), ()))
    assert shape.types == {"phone"}


def test_a_pack_setting_lowers_the_floor(tmp_path: Path) -> None:
    from silkgate.policy.engine import PACKS_DIR, RecordInput, make_shape

    text = (PACKS_DIR / "cn.yaml").read_text("utf-8")
    assert "\nsettings:\n" in text
    pack = tmp_path / "cn.yaml"
    pack.write_text(
        text.replace("\nsettings:\n", "\nsettings:\n  min_confidence: low\n", 1), "utf-8"
    )
    chain = PolicyEngine.from_paths([pack]).chain("CN")
    low = Finding(path="$['note']", type="phone", detector="numbers", confidence="low")
    shape = make_shape(chain, "generic.json", "logistics", "other", RecordInput((low,), ()))
    assert shape.types == {"phone"}
    pack.write_text(
        text.replace("\nsettings:\n", "\nsettings:\n  min_confidence: sure\n", 1), "utf-8"
    )
    chain = PolicyEngine.from_paths([pack]).chain("CN")
    with pytest.raises(PolicyError, match="min_confidence"):
        make_shape(chain, "generic.json", "logistics", "other", RecordInput((low,), ()))


@pytest.mark.parametrize(
    ("evidence", "level"),
    [
        (("key", "checksum"), "high"),
        (("context", "date", "region"), "high"),
        (("annotation",), "high"),
        (("key", "checksum", "no_iin"), "medium"),
        (("checksum", "iin"), "medium"),
        ((), "medium"),
        (("date", "no_region"), "low"),
        (("no_numbering_plan",), "low"),
    ],
)
def test_confidence_from_evidence(evidence: tuple[str, ...], level: str) -> None:
    """Vouched for and no check failed: high; vouched with a failed metadata check, or
    every check passed with nothing vouching: medium; a failed check alone: low."""
    assert confidence(evidence) == level
