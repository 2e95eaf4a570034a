"""Schema hints (annotations, free text, business paths, generic products) and subjects."""

from __future__ import annotations

from typing import Any

from silkgate.classify import Classifier
from silkgate.products import get_product

WAYBILL: dict[str, Any] = {
    "waybill_no": "SF1234567890123",
    "carrier": "SF Express",
    "event_time": "2026-11-28T08:00:00Z",
    "origin": {"country": "CN"},
    "destination": {"country": "VN"},
    "consignee": {"name": "N/A", "phone": "+84 912 345 678", "address": "Hanoi"},
    "remark": "Gọi 0987 654 321 trước khi giao",
    "parcel": {"sscc": "106141411234567897", "note": "nhờ anh Tuấn 0912 111 222"},
    "shipper": {"name": "Nguyễn Văn Bình Trading", "uscc": "91350100M000100Y43"},
}


def _by_path(clf: Classifier, record: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in clf.classify(record).findings:
        out.setdefault(f.path, set()).add(f.type)
    return out


def test_annotated_paths_are_tagged_without_content_scan() -> None:
    clf = Classifier(get_product("logistics.waybill"))
    findings = {f.path: f for f in clf.classify(WAYBILL).findings}
    # "N/A" is no name, but the product says the path holds one: tagged all the same.
    assert findings["$['consignee']['name']"].detector == "annotation"
    assert findings["$['consignee']['name']"].type == "person_name"
    assert findings["$['consignee']['phone']"].country == "VN"


def test_free_text_and_unannotated_strings_are_scanned() -> None:
    found = _by_path(Classifier(get_product("logistics.waybill")), WAYBILL)
    assert "phone" in found["$['remark']"]
    assert {"phone", "person_name"} <= found["$['parcel']['note']"]


def test_business_paths_are_skipped() -> None:
    found = _by_path(Classifier(get_product("logistics.waybill")), WAYBILL)
    assert "$['shipper']['name']" not in found  # a company named after a person
    assert not any(p.startswith("$['waybill_no']") for p in found)


def test_generic_scans_every_string() -> None:
    generic = _by_path(Classifier(), WAYBILL)
    same = _by_path(Classifier(get_product("generic.json")), WAYBILL)
    assert generic == same
    assert "phone" in generic["$['consignee']['phone']"]
    assert "$['consignee']['name']" not in generic  # "N/A": content decides without hints
    assert "person_name" in generic["$['shipper']['name']"]  # nothing says it is a company


def test_partial_match_has_span() -> None:
    rc = Classifier().classify({"remark": "Gọi 0987 654 321 trước khi giao"})
    (finding,) = rc.findings
    assert finding.span == (4, 16)
    whole = Classifier().classify({"phone": "0987 654 321"}).findings[0]
    assert whole.span is None


def test_paths_are_rfc9535_normalized() -> None:
    rc = Classifier().classify({"items": [{"x": 1}, {"it's": "a@b.vn"}]})
    assert rc.findings[0].path == "$['items'][1]['it\\'s']"


def test_subjects_from_subject_paths_in_priority_order() -> None:
    clf = Classifier(get_product("logistics.waybill"))
    assert clf.classify(WAYBILL).subjects == ("phone:+84912345678",)
    with_id = {**WAYBILL, "consignee": {**WAYBILL["consignee"], "id_number": "110101199003074258"}}
    assert clf.classify(with_id).subjects == ("national_id:CN:110101199003074258",)


def test_one_subject_per_person_without_product() -> None:
    record = {
        "buyer": {"name": "Nguyễn Văn An", "phone": "+84 912 345 678", "mail": "A@B.vn"},
        "sender": {"name": "王小明", "tel": "13800138000"},
    }
    subjects = Classifier().classify(record).subjects
    assert sorted(subjects) == ["phone:+84912345678", "phone:+8613800138000"]


def test_strongest_identifier_wins() -> None:
    record = {"f1": "Lê Thị Hoa", "f2": "hoa@example.vn", "f3": "S1234567D"}
    assert Classifier().classify(record).subjects == ("national_id:SG:S1234567D",)
    assert Classifier().classify({"f2": "Hoa@Example.VN"}).subjects == ("email:hoa@example.vn",)


def test_no_subject_without_identifiers() -> None:
    assert Classifier().classify({"sscc": "106141411234567897"}).subjects == ()


def test_classify_batch_matches_classify() -> None:
    clf = Classifier(get_product("logistics.waybill"))
    assert clf.classify_batch([WAYBILL, WAYBILL]) == [clf.classify(WAYBILL)] * 2


def test_numbers_under_telling_keys() -> None:
    found = _by_path(
        Classifier(),
        {
            "gps": {"lat": 21.028511, "lng": 105.804817},
            "phone": 84912345678,
            "qty": 3,
            "price": 12.5,
        },
    )
    assert found == {
        "$['gps']['lat']": {"precise_location"},
        "$['gps']['lng']": {"precise_location"},
        "$['phone']": {"phone"},
    }


def test_a_business_path_is_skipped_whole_objects_and_lists_included() -> None:
    """``$['carrier']`` is a business path of logistics.waybill: whatever it holds is not
    searched. (Compiled with mypyc, the shared business step was once compared with a
    freshly boxed tuple, never matched, and the phones below were found.)"""
    clf = Classifier(get_product("logistics.waybill"))
    record = {
        "carrier": {"contact": "+84 912 345 678", "note": "Gọi 0987 654 321"},
        "status": ["+84 912 345 678"],
        "remark": "Gọi 0987 654 321",
    }
    assert [(f.path, f.type) for f in clf.classify(record).findings] == [("$['remark']", "phone")]
