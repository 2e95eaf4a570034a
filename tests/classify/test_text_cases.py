"""Issue #13: untitled Thai names, rare Chinese given names, cargo notes, US addresses."""

from __future__ import annotations

import pytest

from silkgate.classify import Classifier

CLF = Classifier()


def _types(value: str, key: str = "remark") -> dict[str, str]:
    return {
        f.type: value[f.span[0] : f.span[1]] if f.span else value
        for f in CLF.classify({key: value}).findings
    }


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("ผู้รับ สมชาย ใจดี ชั้น 3", "สมชาย ใจดี"),
        ("ส่งให้ อรุณี ศรีสุข ที่ป้อมยาม", "อรุณี ศรีสุข"),
        ("ชื่อผู้รับ: พงษ์ศักดิ์ แสงอรุณ", "พงษ์ศักดิ์ แสงอรุณ"),  # a given name no list holds
        ("วิชัย บุญมา", "วิชัย บุญมา"),
        ("ศิริเกศ นวลเพ็ง", "ศิริเกศ นวลเพ็ง"),  # just a name, under an opaque key
    ],
)
def test_thai_names_without_titles(text: str, name: str) -> None:
    assert _types(text, "c7").get("person_name") == name


@pytest.mark.parametrize("text", ["ของแตกง่าย ระวังด้วย", "ส่งในเวลาทำการ", "กรุงเทพ มหานคร"])
def test_thai_phrases_are_not_names(text: str) -> None:
    assert "person_name" not in _types(text, "c7")


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("收件人：覃彧", "覃彧"),
        ("联系人韦昉，已电话确认", "韦昉"),
        ("收货人 黎珝昶 门卫代收", "黎珝昶"),
        ("请交给莫翀签收", "莫翀"),
        ("农甯先生的包裹", "农甯先生"),
        ("李飞", "李飞"),  # two characters under an opaque key
    ],
)
def test_rare_chinese_given_names_with_a_surname_and_context(text: str, name: str) -> None:
    assert _types(text, "f2").get("person_name") == name


@pytest.mark.parametrize("text", ["收件人地址：南宁市青秀区", "联系人电话", "客户已签收", "广西"])
def test_chinese_context_without_a_name(text: str) -> None:
    assert "person_name" not in _types(text, "f2")


@pytest.mark.parametrize(
    "note",
    [
        "Container COSU4412521 sealed, 19 pallets, gross 19230 kg",
        "Reefer OOLU0508508 set point -20 C, vents closed, 26636 kg net",
        "Pickup at Gate 12, Warehouse 5, Lot 645, 667 bags of rice, 21063 kg",
        "320 cartons, 41.5 CBM, 12000 pcs",
    ],
)
def test_cargo_notes_are_not_addresses(note: str) -> None:
    assert CLF.classify({"cargo_note": note}).findings == ()


def test_a_kampung_is_still_an_address() -> None:
    assert "address" in _types("No 12, Kg Baru Sungai Buloh, 47000 Selangor")


@pytest.mark.parametrize(
    "addr",
    [
        "1600 Jackson Street, San Francisco, CA 94109",
        "938 Martin Luther King Jr Blvd, Miami, FL 33145",
        "2036 Pacific Coast Hwy, Houston, TX 77083",
        "12 Grant Ave, Suite 200, Newark, NJ 07102",
    ],
)
def test_us_street_addresses_are_addresses_not_names(addr: str) -> None:
    for key in ("remark", "address"):
        types = _types(f"Deliver to {addr}" if key == "remark" else addr, key)
        assert "address" in types and "person_name" not in types, (key, types)
