"""The detector registry (plugins), the classify CLI and the synthetic generator."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import phonenumbers
import pytest
import typer
from typer.testing import CliRunner

from silkgate.classify import Classifier, Detector, Hit, KeyContext, register_detector
from silkgate.classify.cli import classify_command
from silkgate.classify.phones import region_of
from silkgate.classify.registry import registered_detectors, unregister_detector
from silkgate.demo import synth
from silkgate.products import get_product

# ------------------------------------------------------------------ registry

_HEALTH = re.compile(r"diabetes|hypertension|糖尿病")


def _scan_health(text: str, kc: KeyContext, hits: list[Hit]) -> None:
    for m in _HEALTH.finditer(text):
        hits.append(("health", m.start(), m.end(), None))


def test_builtins_are_registered_like_plugins() -> None:
    names = {d.name for d in registered_detectors()}
    assert {"email", "numbers", "passport_nric", "person_name", "address", "ip"} <= names


def test_plugin_detector_is_used_by_new_classifiers() -> None:
    register_detector(
        Detector(
            "health_words", ("health",), frozenset({"latin_caps", "nonascii", "any"}), _scan_health
        )
    )
    try:
        rc = Classifier().classify({"note": "Patient has diabetes"})
        assert [(f.type, f.detector) for f in rc.findings] == [("health", "health_words")]
        with pytest.raises(ValueError, match="already registered"):
            register_detector(
                Detector("health_words", ("health",), frozenset({"any"}), _scan_health)
            )
    finally:
        unregister_detector("health_words")
    assert Classifier().classify({"note": "Patient has diabetes"}).findings == ()


def test_unknown_trigger_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown triggers"):
        register_detector(Detector("bad", ("health",), frozenset({"sometimes"}), _scan_health))  # type: ignore[arg-type]


# ------------------------------------------------------------------ phones


def test_compiled_phone_metadata_agrees_with_phonenumbers() -> None:
    rng = random.Random(5)
    for _ in range(400):
        region = rng.choice(("CN", "VN", "TH", "MY", "SG", "ID", "PH"))
        cc = phonenumbers.country_code_for_region(region)
        number = f"+{cc}{rng.randint(10**7, 10**11 - 1)}"
        expected = phonenumbers.is_valid_number(phonenumbers.parse(number))
        assert (region_of(number) is not None) == expected, number


# ------------------------------------------------------------------ CLI


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("classify")(classify_command)
    app.command("other")(lambda: None)
    return app


def test_cli_ndjson(tmp_path: Path) -> None:
    path = tmp_path / "in.ndjson"
    path.write_text(
        '{"consignee": {"name": "Nguyễn Văn An", "phone": "+84 912 345 678"}}\n'
        '{"sscc": "106141411234567897"}\n',
        "utf-8",
    )
    result = CliRunner().invoke(_app(), ["classify", str(path)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[1] == {"index": 1, "findings": []}
    assert lines[0]["index"] == 0
    assert {
        "path": "$['consignee']['phone']",
        "type": "phone",
        "confidence": "high",
        "detector": "numbers",
        "evidence": ["key", "numbering_plan"],
        "country": "VN",
    } in lines[0]["findings"]
    assert all("country" not in f for f in lines[0]["findings"] if f["type"] == "person_name")


def test_cli_epcis_document_and_product(tmp_path: Path) -> None:
    events = [synth.epcis_event(random.Random(i), t) for i, t in enumerate(synth.EPCIS_EVENT_TYPES)]
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(synth.epcis_document(events), indent=2), "utf-8")
    result = CliRunner().invoke(
        _app(), ["classify", str(path), "--product", "logistics.epcis-event"]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["index"] for line in lines] == list(range(len(events)))
    personal = {"person_name", "phone", "email", "national_id", "passport", "bank_card"}
    assert [f for line in lines for f in line["findings"] if f["type"] in personal] == []


def test_cli_unknown_product(tmp_path: Path) -> None:
    path = tmp_path / "in.ndjson"
    path.write_text("{}\n", "utf-8")
    result = CliRunner().invoke(_app(), ["classify", str(path), "--product", "nope"])
    assert result.exit_code == 2
    assert "unknown data product" in result.output


# ------------------------------------------------------------------ synth


def test_synth_records_validate_and_are_deterministic() -> None:
    first = list(synth.generate(400, seed=11))
    assert first == list(synth.generate(400, seed=11))
    assert {s.product for s in first} == set(synth.PRODUCT_OF_KIND.values())
    for i, s in enumerate(first):
        get_product(s.product).validate(s.record, index=i)
        assert s.origin == "CN" and s.destination in synth.DESTINATIONS
        assert (
            s.purpose
            == synth.PURPOSE_OF_KIND[{v: k for k, v in synth.PRODUCT_OF_KIND.items()}[s.product]]
        )
        if s.product == "logistics.epcis-event":
            assert s.labels == ()


def test_synth_kinds_and_labels_point_at_values() -> None:
    from silkgate.classify.paths import parse_pattern

    for s in synth.generate(200, seed=3, kinds=["waybill", "order"]):
        assert s.product in ("logistics.waybill", "ecommerce.order")
        for path, _ in s.labels:
            value = s.record
            for part in parse_pattern(path):
                value = value[part]  # type: ignore[index]
            assert isinstance(value, str) and value
    with pytest.raises(ValueError, match="unknown kinds"):
        next(synth.generate(1, seed=1, kinds=["parcel"]))


def test_synth_identifiers_have_valid_check_digits() -> None:
    from stdnum.cn import ric, uscc
    from stdnum.sg import uen

    from silkgate.classify import checks

    rng = random.Random(9)
    for _ in range(50):
        assert ric.is_valid(synth.cn_resident_id(rng))
        assert uscc.is_valid(synth.uscc(rng))
        assert uen.is_valid(synth.uen(rng))
        assert checks.gs1_valid(synth.sscc(rng)) and checks.gs1_valid(synth.gtin13(rng))
        assert checks.sg_nric_valid(synth.sg_nric(rng))
        box = synth.container_no(rng)
        assert checks.iso6346_check_digit(box[:10]) == box[10]


def test_own_check_digits_agree_with_stdnum() -> None:
    from stdnum import ean, iso6346, luhn
    from stdnum.cn import ric

    from silkgate.classify import checks

    rng = random.Random(4)
    for _ in range(300):
        body = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((12, 13, 17))))
        assert checks.gs1_check_digit(body) == ean.calc_check_digit(body)
        box = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3)) + "U"
        box += f"{rng.randint(0, 999999):06d}"
        assert checks.iso6346_check_digit(box) == iso6346.calc_check_digit(box)
        card = "".join(str(rng.randint(0, 9)) for _ in range(16))
        assert checks.luhn_valid(card) == luhn.is_valid(card)
        rid = "".join(str(rng.randint(0, 9)) for _ in range(17))
        assert checks._cn_check_char(rid + "0") == ric.calc_check_digit(rid + "0")
