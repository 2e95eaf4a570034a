"""Synthetic China–ASEAN traffic: EPCIS events, waybills, orders and customs declarations
with ground-truth labels of the personal data each record holds.

Deterministic for a seed. Faker fills pools of names and addresses once per call; records
combine pool entries with identifiers made valid by their check-digit algorithms, so 20,000
records take a few seconds.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from faker import Faker
from stdnum import ean, iso6346, luhn
from stdnum.cn import ric as cn_ric
from stdnum.cn import uscc as cn_uscc
from stdnum.sg import uen as sg_uen

from silkgate.classify.checks import s10_check_digit, sg_nric_check_letter

DESTINATIONS = ("VN", "TH", "MY", "SG", "ID")
KINDS = ("epcis", "waybill", "order", "declaration")
# EPCIS events are most of logistics traffic.
_WEIGHTS = {"epcis": 0.55, "waybill": 0.2, "order": 0.15, "declaration": 0.1}
PRODUCT_OF_KIND = {
    "epcis": "logistics.epcis-event",
    "waybill": "logistics.waybill",
    "order": "ecommerce.order",
    "declaration": "customs.declaration",
}
PURPOSE_OF_KIND = {
    "epcis": "logistics_operations",
    "waybill": "logistics_operations",
    "order": "contract_performance",
    "declaration": "customs_clearance",
}
EPCIS_EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "AssociationEvent",
    "TransactionEvent",
    "TransformationEvent",
)
EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"

Label = tuple[str, str]  # (normalized path, finding type)


@dataclass(frozen=True)
class SyntheticRecord:
    product: str
    record: dict[str, Any]
    labels: tuple[Label, ...]
    origin: str
    destination: str
    purpose: str


@dataclass
class Person:
    name: str
    phone: str  # as written (international, national or E.164)
    address: str
    email: str
    country: str


# ------------------------------------------------------------------ identifiers


def cn_resident_id(rng: random.Random) -> str:
    while True:
        region = rng.choice(
            (
                "110101",
                "310101",
                "440103",
                "450102",
                "450103",
                "450305",
                "320102",
                "330106",
                "510104",
                "420102",
                "440305",
                "350102",
            )
        )
        born = f"{rng.randint(1955, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        body = f"{region}{born}{rng.randint(0, 999):03d}"
        number = body + str(cn_ric.calc_check_digit(body + "0"))  # stdnum skips the last char
        if cn_ric.is_valid(number):  # the county must have existed in the birth year
            return number


def sg_nric(rng: random.Random) -> str:
    prefix = rng.choice("STFG")
    digits = f"{rng.randint(0, 9999999):07d}"
    return prefix + digits + sg_nric_check_letter(prefix, digits)


def th_pin(rng: random.Random) -> str:
    body = (
        str(rng.randint(1, 8)) + f"{rng.randint(10, 96):02d}" + f"{rng.randint(0, 10**9 - 1):09d}"
    )
    total = sum(int(d) * (13 - i) for i, d in enumerate(body))
    return body + str((11 - total % 11) % 10)


def my_nric(rng: random.Random) -> str:
    born = f"{rng.randint(60, 99):02d}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    place = rng.choice(("01", "07", "08", "10", "14", "12", "13"))
    return f"{born}-{place}-{rng.randint(0, 9999):04d}"


def id_nik(rng: random.Random) -> str:
    region = rng.choice(("317101", "327301", "357801", "517101", "127101", "337401"))
    day = rng.randint(1, 28) + (40 if rng.random() < 0.5 else 0)
    born = f"{day:02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}"
    return f"{region}{born}{rng.randint(1, 9999):04d}"


def vn_citizen_id(rng: random.Random) -> str:
    province = rng.choice((1, 31, 48, 79, 92, 26, 38))
    return (
        f"{province:03d}{rng.choice('0123')}{rng.randint(60, 99):02d}{rng.randint(0, 999999):06d}"
    )


def passport(rng: random.Random, country: str) -> str:
    digits7 = f"{rng.randint(0, 9999999):07d}"
    if country == "CN":
        return "E" + f"{rng.randint(10000000, 99999999)}"
    if country == "VN":
        return rng.choice("BCN") + digits7
    if country == "TH":
        return rng.choice(("AA", "AB", "AC")) + digits7
    if country == "MY":
        return "A" + f"{rng.randint(10000000, 99999999)}"
    if country == "SG":
        return "K" + digits7 + rng.choice("ABCDEFGHJ")
    return rng.choice("ABCX") + digits7  # ID


def luhn_complete(body: str) -> str:
    return body + luhn.calc_check_digit(body)


def bank_card(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.5:  # UnionPay, 16 or 19 digits
        n = rng.choice((16, 19))
        body = "62" + "".join(str(rng.randint(0, 9)) for _ in range(n - 3))
    elif kind < 0.8:
        body = "4" + "".join(str(rng.randint(0, 9)) for _ in range(14))
    else:
        body = str(rng.randint(51, 55)) + "".join(str(rng.randint(0, 9)) for _ in range(13))
    number = luhn_complete(body)
    if rng.random() < 0.5:
        return " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    return number


def gtin13(rng: random.Random) -> str:
    prefix = rng.choice(("690", "692", "695", "885", "893", "955", "899", "888"))
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(9))
    return body + ean.calc_check_digit(body)


def sscc(rng: random.Random) -> str:
    body = str(rng.randint(0, 9)) + "6901234" + f"{rng.randint(0, 10**9 - 1):09d}"
    return body + ean.calc_check_digit(body)


def gln(rng: random.Random) -> str:
    body = "6901234" + f"{rng.randint(0, 99999):05d}"
    return body + ean.calc_check_digit(body)


def container_no(rng: random.Random) -> str:
    code = (
        rng.choice(("MSC", "CSQ", "COS", "OOL", "EMC", "TGH"))
        + "U"
        + f"{rng.randint(0, 999999):06d}"
    )
    return code + iso6346.calc_check_digit(code)


def s10(rng: random.Random, country: str = "CN") -> str:
    serial = f"{rng.randint(0, 99999999):08d}"
    return rng.choice(("RR", "EE", "LP", "CP", "UA")) + serial + s10_check_digit(serial) + country


def carrier_waybill(rng: random.Random) -> tuple[str, str]:
    carrier = rng.choice(("SF Express", "J&T Express", "China Post", "Best Express", "Ninja Van"))
    if carrier == "China Post":
        return carrier, s10(rng)
    prefix = {"SF Express": "SF", "J&T Express": "JT", "Best Express": "BX", "Ninja Van": "NV"}
    return carrier, prefix[carrier] + f"{rng.randint(0, 10**13 - 1):013d}"


def uscc(rng: random.Random) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = (
        "91"
        + rng.choice(("450100", "440300", "310000", "110108"))
        + "".join(rng.choice(alphabet) for _ in range(9))
    )
    return body + str(cn_uscc.calc_check_digit(body))


def uen(rng: random.Random) -> str:
    body = f"{rng.randint(0, 99999999):08d}"
    return body + str(sg_uen.calc_business_check_digit(body))


def hs_code(rng: random.Random) -> str:
    code = rng.choice(
        (
            "851762",
            "850760",
            "610910",
            "090121",
            "420222",
            "950300",
            "330499",
            "847130",
            "640419",
            "210690",
        )
    )
    style = rng.random()
    if style < 0.4:
        return f"{code[:4]}.{code[4:]}"
    if style < 0.7:
        return code + "0000"
    return code


# ------------------------------------------------------------------ people

_MOBILE_PATTERNS: dict[str, Callable[[random.Random], str]] = {
    "CN": lambda r: (
        r.choice(("138", "139", "150", "186", "177", "135")) + f"{r.randint(0, 10**8 - 1):08d}"
    ),
    "VN": lambda r: (
        r.choice(("91", "98", "97", "90", "86", "32", "88")) + f"{r.randint(0, 10**7 - 1):07d}"
    ),
    "TH": lambda r: (
        r.choice(("81", "86", "89", "91", "95", "62")) + f"{r.randint(0, 10**7 - 1):07d}"
    ),
    "MY": lambda r: r.choice(("12", "13", "16", "17", "19")) + f"{r.randint(0, 10**7 - 1):07d}",
    "SG": lambda r: r.choice(("8", "9")) + f"{r.randint(0, 10**7 - 1):07d}",
    "ID": lambda r: (
        r.choice(("812", "813", "821", "852", "857")) + f"{r.randint(0, 10**7 - 1):07d}"
    ),
}


def make_phone(rng: random.Random, country: str) -> str:
    """A valid mobile number of `country`, written in one of the usual styles."""
    while True:
        nsn = _MOBILE_PATTERNS[country](rng)
        num = phonenumbers.parse(nsn, country)
        if phonenumbers.is_valid_number(num):
            break
    style = rng.random()
    if style < 0.35:
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    if style < 0.65:
        return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL)


_VN_MIDDLE = ("Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Xuân", "Công")
_VN_GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hải",
    "Hạnh",
    "Hoa",
    "Hùng",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Ngọc",
    "Phúc",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vy",
)
_SG_SURNAMES = ("Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Koh", "Teo")
_SG_GIVEN = ("Wei Ming", "Hui Ling", "Jun Jie", "Mei Ling", "Zhi Hao", "Xin Yi", "Kai Wen")
_MY_GIVEN = (
    "Ahmad",
    "Muhammad",
    "Siti",
    "Nur",
    "Aisyah",
    "Hafiz",
    "Farah",
    "Amir",
    "Zainal",
    "Nurul",
    "Azman",
    "Fatimah",
)
_MY_STREETS = (
    "Jalan Ampang",
    "Jalan Tun Razak",
    "Jalan Bukit Bintang",
    "Jalan Klang Lama",
    "Jalan Dato Onn",
    "Jalan Sultan Ismail",
)
_MY_AREAS = (
    ("Taman Melati", "53100 Kuala Lumpur"),
    ("Taman Johor Jaya", "81100 Johor Bahru"),
    ("Bandar Baru Bangi", "43650 Selangor"),
    ("Taman Tun Dr Ismail", "60000 Kuala Lumpur"),
)
_SG_STREETS = (
    "Jurong West St 41",
    "Tampines Ave 4",
    "Ang Mo Kio Ave 3",
    "Bedok North Rd",
    "Yishun Ring Rd",
    "Clementi Ave 2",
)
_DOMAINS = ("gmail.com", "yahoo.com", "hotmail.com", "qq.com", "163.com", "outlook.com")


class Pools:
    """Names, addresses and phones per country, pre-generated with Faker."""

    def __init__(self, seed: int, size: int = 300) -> None:
        self.rng = random.Random(seed)
        fakers = {loc: Faker(loc) for loc in ("zh_CN", "vi_VN", "th_TH", "id_ID", "en_US")}
        for i, f in enumerate(fakers.values()):
            f.seed_instance(seed + i)
        self.fakers = fakers
        self.people: dict[str, list[Person]] = {
            c: [self._person(c) for _ in range(size)] for c in (*DESTINATIONS, "CN")
        }
        zh = fakers["zh_CN"]
        self.cn_companies = [zh.company() for _ in range(60)]
        self.en_words = [fakers["en_US"].word() for _ in range(200)]

    def _person(self, c: str) -> Person:
        name, address = self._name(c), self._address(c)
        user = self.fakers["en_US"].user_name() + str(self.rng.randint(1, 999))
        email = f"{user}@{self.rng.choice(_DOMAINS)}"
        return Person(name, make_phone(self.rng, c), address, email, c)

    def _name(self, c: str) -> str:
        r, f = self.rng, self.fakers
        if c == "CN":
            return str(f["zh_CN"].name())
        if c == "VN":
            return f"{f['vi_VN'].last_name()} {r.choice(_VN_MIDDLE)} {r.choice(_VN_GIVEN)}"
        if c == "TH":
            return f"{f['th_TH'].first_name()} {f['th_TH'].last_name()}"
        if c == "ID":
            return f"{f['id_ID'].first_name()} {f['id_ID'].last_name()}"
        if c == "MY":
            a, b = r.sample(_MY_GIVEN, 2)
            return f"{a} {r.choice(('bin', 'binti'))} {b}"
        return f"{r.choice(_SG_SURNAMES)} {r.choice(_SG_GIVEN)}"

    def _address(self, c: str) -> str:
        r, f = self.rng, self.fakers
        if c == "CN":
            zh = f["zh_CN"]
            street = f"{zh.street_name()}{r.randint(1, 300)}号"
            return f"{zh.province()}{zh.city()}{zh.district()}区{street}"
        if c == "VN":
            return str(f["vi_VN"].address()).replace("\n", ", ")
        if c == "TH":
            return str(f["th_TH"].address()).replace("\n", " ")
        if c == "ID":
            return str(f["id_ID"].address()).replace("\n", ", ")
        if c == "MY":
            area, city = r.choice(_MY_AREAS)
            return f"No. {r.randint(1, 120)}, {r.choice(_MY_STREETS)}, {area}, {city}"
        return (
            f"Blk {r.randint(100, 999)} {r.choice(_SG_STREETS)} #{r.randint(1, 20):02d}-"
            f"{r.randint(1, 300)} Singapore {r.randint(100000, 799999)}"
        )


# ------------------------------------------------------------------ free text

_PLAIN_REMARKS = {
    "VN": ("Giao giờ hành chính", "Hàng dễ vỡ, xin nhẹ tay", "Không giao cuối tuần"),
    "TH": ("ฝากไว้ที่ป้อมยาม", "ของแตกง่าย ระวังด้วย", "ส่งในเวลาทำการ"),
    "MY": ("Sila hantar waktu pejabat", "Barang mudah pecah", "Leave at the guardhouse"),
    "SG": ("Leave at the door", "Fragile, handle with care", "Deliver after 6pm"),
    "ID": ("Titip di satpam", "Barang mudah pecah", "Kirim jam kerja"),
    "CN": ("易碎品，轻拿轻放", "工作日送货", "请放快递柜"),
}
_PHONE_REMARKS = {
    "VN": "Gọi {phone} trước khi giao",
    "TH": "โทร {phone} ก่อนส่ง",
    "MY": "Sila hubungi {phone} sebelum hantar",
    "SG": "Call {phone} before delivery",
    "ID": "Hubungi {phone} sebelum kirim",
    "CN": "送货前请致电{phone}",
}
_NAME_REMARKS = {
    "VN": "Người nhận: {name}, SĐT {phone}",
    "TH": "ส่งให้คุณ{name} โทร {phone}",
    "MY": "Untuk Encik {name}, tel {phone}",
    "SG": "Deliver to Mr {name}, tel {phone}",
    "ID": "Untuk Bapak {name}, HP {phone}",
    "CN": "收件人{name}，电话{phone}",
}
_ID_REMARKS = {
    "VN": "CCCD của người nhận: {id}",
    "TH": "เลขบัตรประชาชน {id}",
    "MY": "No. IC penerima {id}",
    "SG": "Recipient NRIC {id}",
    "ID": "NIK penerima {id}",
    "CN": "收件人身份证{id}",
}


def national_id_for(rng: random.Random, country: str) -> str:
    return {
        "CN": cn_resident_id,
        "SG": sg_nric,
        "TH": th_pin,
        "MY": my_nric,
        "ID": id_nik,
        "VN": vn_citizen_id,
    }[country](rng)


# ------------------------------------------------------------------ records


@dataclass
class _Builder:
    pools: Pools
    rng: random.Random
    labels: list[Label] = field(default_factory=list)

    def label(self, path: str, ftype: str) -> None:
        self.labels.append((path, ftype))

    def remark(self, path: str, person: Person, dest: str) -> str | None:
        """A remark: plain most of the time, sometimes with a phone, a name or an ID."""
        roll = self.rng.random()
        if roll < 0.45:
            return None
        if roll < 0.7:
            return self.rng.choice(_PLAIN_REMARKS[dest])
        if roll < 0.85:
            self.label(path, "phone")
            return _PHONE_REMARKS[dest].format(phone=person.phone)
        if roll < 0.95:
            self.label(path, "person_name")
            self.label(path, "phone")
            name = person.name.split(" bin")[0] if dest == "MY" else person.name
            return _NAME_REMARKS[dest].format(name=name, phone=person.phone)
        self.label(path, "national_id")
        return _ID_REMARKS[dest].format(id=national_id_for(self.rng, dest))

    def items(self, key: str, n: int, *, title_key: str, with_price: bool) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            item: dict[str, Any] = {
                title_key: self.rng.choice(_PRODUCT_TITLES),
                "gtin": gtin13(self.rng),
                "hs_code": hs_code(self.rng),
                "quantity": self.rng.randint(1, 5),
            }
            if with_price:
                item["sku"] = f"SKU-{self.rng.randint(10000, 99999)}"
                item["unit_price"] = round(self.rng.uniform(1, 300), 2)
            out.append(item)
        return out


_PRODUCT_TITLES = (
    "Bluetooth earphones",
    "手机壳 iPhone 15",
    "Áo thun cotton",
    "Phone charger 20W",
    "绿茶 250g",
    "Rice cooker 1.8L",
    "เสื้อยืดผ้าฝ้าย",
    "LED desk lamp",
    "Kemeja batik",
    "Sneakers size 42",
    "儿童玩具积木",
    "Skincare set",
)


def _time(rng: random.Random) -> str:
    return (
        f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
        f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"
    )


def _waybill(b: _Builder, dest: str) -> dict[str, Any]:
    r, pools = b.rng, b.pools
    person, sender = r.choice(pools.people[dest]), r.choice(pools.people["CN"])
    carrier, number = carrier_waybill(r)
    consignee: dict[str, Any] = {
        "name": person.name,
        "phone": person.phone,
        "address": person.address,
    }
    b.label("$['consignee']['name']", "person_name")
    b.label("$['consignee']['phone']", "phone")
    b.label("$['consignee']['address']", "address")
    if r.random() < 0.3:
        consignee["email"] = person.email
        b.label("$['consignee']['email']", "email")
    if r.random() < 0.15:
        consignee["id_number"] = national_id_for(r, dest)
        b.label("$['consignee']['id_number']", "national_id")
    record: dict[str, Any] = {
        "waybill_no": number,
        "carrier": carrier,
        "event_time": _time(r),
        "status": r.choice(("picked_up", "in_transit", "customs_cleared", "out_for_delivery")),
        "origin": {"country": "CN", "city": r.choice(("Nanning", "Pingxiang", "Guangzhou"))},
        "destination": {"country": dest},
        "consignee": consignee,
        "parcel": {"sscc": sscc(r), "weight_kg": round(r.uniform(0.2, 20), 2)},
        "items": b.items("items", r.randint(1, 2), title_key="description", with_price=False),
        "shipper": {"name": r.choice(pools.cn_companies), "uscc": uscc(r)},
    }
    if r.random() < 0.3:
        record["sender"] = {"name": sender.name, "phone": sender.phone}
        b.label("$['sender']['name']", "person_name")
        b.label("$['sender']['phone']", "phone")
    if r.random() < 0.2:
        record["parcel"]["container_no"] = container_no(r)
    remark = b.remark("$['remark']", person, dest)
    if remark:
        record["remark"] = remark
    return record


def _order(b: _Builder, dest: str) -> dict[str, Any]:
    r, pools = b.rng, b.pools
    person = r.choice(pools.people[dest])
    buyer: dict[str, Any] = {"name": person.name, "email": person.email}
    b.label("$['buyer']['name']", "person_name")
    b.label("$['buyer']['email']", "email")
    if r.random() < 0.5:
        buyer["phone"] = person.phone
        b.label("$['buyer']['phone']", "phone")
    if r.random() < 0.2:
        buyer["id_number"] = national_id_for(r, dest)
        b.label("$['buyer']['id_number']", "national_id")
    record: dict[str, Any] = {
        "order_id": f"SO{r.randint(2026000000, 2026999999)}{r.randint(1000, 9999)}",
        "created_at": _time(r),
        "platform": r.choice(("Lazada", "Shopee", "TikTok Shop", "Tmall Global")),
        "buyer": buyer,
        "shipping_address": {
            "name": person.name,
            "phone": person.phone,
            "line1": person.address,
            "country": dest,
            "postcode": f"{r.randint(10000, 99999)}",
        },
        "items": b.items("items", r.randint(1, 3), title_key="title", with_price=True),
        "currency": r.choice(("CNY", "VND", "THB", "MYR", "SGD", "IDR")),
        "payment": {"method": r.choice(("card", "wallet", "cod"))},
        "seller": {"name": r.choice(pools.cn_companies), "uscc": uscc(r)},
    }
    for path, t in (("name", "person_name"), ("phone", "phone"), ("line1", "address")):
        b.label(f"$['shipping_address']['{path}']", t)
    if record["payment"]["method"] == "card" and r.random() < 0.6:
        record["payment"]["card_number"] = bank_card(r)
        b.label("$['payment']['card_number']", "bank_card")
    if r.random() < 0.3:
        record["client_ip"] = (
            f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        )
        b.label("$['client_ip']", "ip_address")
    note = b.remark("$['note']", person, dest)
    if note:
        record["note"] = note
    return record


def _declaration(b: _Builder, dest: str) -> dict[str, Any]:
    r, pools = b.rng, b.pools
    person = r.choice(pools.people[dest])
    consignee: dict[str, Any] = {"name": person.name, "address": person.address}
    b.label("$['consignee']['name']", "person_name")
    b.label("$['consignee']['address']", "address")
    if r.random() < 0.6:
        consignee["id_number"] = national_id_for(r, dest)
        b.label("$['consignee']['id_number']", "national_id")
    else:
        consignee["passport_no"] = passport(r, dest)
        b.label("$['consignee']['passport_no']", "passport")
    if r.random() < 0.5:
        consignee["phone"] = person.phone
        b.label("$['consignee']['phone']", "phone")
    goods = [
        {
            "hs_code": hs_code(r),
            "description": r.choice(_PRODUCT_TITLES),
            "quantity": r.randint(1, 10),
            "value": round(r.uniform(5, 500), 2),
        }
        for _ in range(r.randint(1, 3))
    ]
    record: dict[str, Any] = {
        "declaration_no": f"{r.randint(5100, 5199)}2026{r.randint(0, 10**10 - 1):010d}",
        "declared_at": _time(r),
        "customs_office": r.choice(("Pingxiang", "Dongxing", "Nanning Wuxu Airport")),
        "declarant": {"name": r.choice(pools.cn_companies), "uscc": uscc(r)},
        "consignee": consignee,
        "goods": goods,
        "currency": "CNY",
        "transport": {"waybill_no": carrier_waybill(r)[1], "container_no": container_no(r)},
    }
    remark = b.remark("$['remark']", person, dest)
    if remark:
        record["remark"] = remark
    return record


# ------------------------------------------------------------------ EPCIS


_BT = "urn:epcglobal:cbv:bt:6901234000005:"


def _epc(rng: random.Random) -> str:
    return f"urn:epc:id:sgtin:6901234.0{rng.randint(10000, 99999)}.{rng.randint(1, 10**6)}"


def _sgln(rng: random.Random) -> str:
    return f"urn:epc:id:sgln:6901234.{rng.randint(10000, 99999)}.0"


def epcis_event(rng: random.Random, event_type: str, *, full: bool = False) -> dict[str, Any]:
    """One EPCIS 2.0 event of `event_type`; `full` adds every optional field the standard
    defines for it."""
    ev: dict[str, Any] = {
        "type": event_type,
        "eventTime": _time(rng),
        "eventTimeZoneOffset": rng.choice(("+08:00", "+07:00")),
    }
    if full or rng.random() < 0.7:
        ev["eventID"] = f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    if event_type in ("ObjectEvent", "AggregationEvent", "TransactionEvent", "AssociationEvent"):
        ev["action"] = (
            rng.choice(("ADD", "OBSERVE", "DELETE")) if event_type != "TransactionEvent" else "ADD"
        )
    if event_type == "ObjectEvent":
        ev["epcList"] = [_epc(rng) for _ in range(rng.randint(1, 3))]
    elif event_type in ("AggregationEvent", "AssociationEvent"):
        ev["parentID"] = f"urn:epc:id:sscc:6901234.{rng.randint(10**9, 10**10 - 1)}"
        ev["childEPCs"] = [_epc(rng) for _ in range(rng.randint(1, 3))]
    elif event_type == "TransactionEvent":
        ev["epcList"] = [_epc(rng)]
    else:
        ev["inputEPCList"] = [_epc(rng)]
        ev["outputEPCList"] = [_epc(rng)]
    ev["bizStep"] = rng.choice(
        (
            "shipping",
            "receiving",
            "packing",
            "loading",
            "departing",
            "arriving",
            "commissioning",
            "inspecting",
        )
    )
    ev["disposition"] = rng.choice(("in_transit", "in_progress", "active", "container_closed"))
    ev["readPoint"] = {"id": _sgln(rng)}
    ev["bizLocation"] = {"id": _sgln(rng)}
    if full or rng.random() < 0.6:
        ev["bizTransactionList"] = [
            {
                "type": "po",
                "bizTransaction": f"{_BT}PO-{rng.randint(1000, 99999)}",
            },
            {
                "type": "desadv",
                "bizTransaction": f"{_BT}DA-{rng.randint(1000, 99999)}",
            },
        ]
    if full or rng.random() < 0.1:  # sensor data, ILMD and the like: a minority of events
        _add_optional(rng, ev, event_type, full)
    return ev


def _add_optional(rng: random.Random, ev: dict[str, Any], event_type: str, full: bool) -> None:
    lgtin = f"urn:epc:class:lgtin:6901234.0{rng.randint(10000, 99999)}.L{rng.randint(100, 999)}"
    qty = [{"epcClass": lgtin, "quantity": rng.randint(1, 500), "uom": "KGM"}]
    if event_type == "AggregationEvent" or event_type == "AssociationEvent":
        ev["childQuantityList"] = qty
    elif event_type == "TransformationEvent":
        ev["inputQuantityList"] = qty
        ev["outputQuantityList"] = [{"epcClass": lgtin, "quantity": 10}]
        ev["transformationID"] = f"urn:epc:id:gdti:6901234.00001.{rng.randint(1, 999)}"
    else:
        ev["quantityList"] = qty
    ev["recordTime"] = _time(rng)
    ev["sourceList"] = [
        {"type": "owning_party", "source": f"urn:epc:id:pgln:6901234.{rng.randint(10000, 99999)}"}
    ]
    ev["destinationList"] = [{"type": "location", "destination": _sgln(rng)}]
    ev["persistentDisposition"] = {
        "set": ["completeness_verified"],
        "unset": ["completeness_inferred"],
    }
    ev["sensorElementList"] = [
        {
            "sensorMetadata": {
                "time": _time(rng),
                "deviceID": f"urn:epc:id:giai:6901234.{rng.randint(100, 999)}",
                "deviceMetadata": "https://id.gs1.org/8004/69012341234",
                "rawData": f"https://sensors.example.com/raw/{rng.randint(1000, 9999)}",
                "startTime": _time(rng),
                "endTime": _time(rng),
                "dataProcessingMethod": "https://example.com/gdti/6901234000054987",
                "bizRules": "https://example.com/gdti/6901234000054988",
            },
            "sensorReport": [
                {
                    "type": "Temperature",
                    "value": round(rng.uniform(2, 8), 1),
                    "uom": "CEL",
                    "minValue": 2.0,
                    "maxValue": 8.0,
                    "meanValue": 4.6,
                    "sDev": 0.4,
                    "percRank": 50.0,
                    "percValue": 4.5,
                    "component": "x",
                    "time": _time(rng),
                },
                {
                    "type": "RelativeHumidity",
                    "value": 45.2,
                    "uom": "A93",
                    "exception": "ALARM_CONDITION",
                },
                {
                    "type": "Illuminance",
                    "stringValue": "low",
                    "booleanValue": True,
                    "hexBinaryValue": "f0f0f0",
                    "uriValue": "https://example.com/status/ok",
                    "chemicalSubstance": "https://identifiers.org/inchikey:CZMRCDWAGMRECN-UGDNZRGBSA-N",
                    "microorganism": "https://www.ncbi.nlm.nih.gov/taxonomy/1126011",
                    "deviceID": f"urn:epc:id:giai:6901234.{rng.randint(100, 999)}",
                    "deviceMetadata": "https://id.gs1.org/8004/69012349999",
                    "rawData": "https://sensors.example.com/raw/1",
                    "dataProcessingMethod": "https://example.com/m",
                    "coordinateReferenceSystem": "http://www.opengis.net/def/crs/EPSG/0/4979",
                },
            ],
        }
    ]
    if event_type in ("ObjectEvent", "TransformationEvent"):
        ev["ilmd"] = {
            "cbvmda:lotNumber": f"LOT{rng.randint(1000, 9999)}",
            "cbvmda:bestBeforeDate": "2027-06-30",
            "cbvmda:countryOfOrigin": "CN",
        }
    ev["certificationInfo"] = f"https://cert.example.org/certificate/CN{rng.randint(1000, 9999)}"
    if full:
        ev["errorDeclaration"] = {
            "declarationTime": _time(rng),
            "reason": "incorrect_data",
            "correctiveEventIDs": [f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}"],
        }
        ev["example:vendorExtension"] = {"#text": "pallet-7", "example:temperatureZone": "chilled"}


def epcis_document(events: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Wrap events in an EPCIS 2.0 EPCISDocument."""
    return {
        "@context": [EPCIS_CONTEXT, {"example": "https://ns.example.com/epcis/"}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-11-28T00:00:00Z",
        "epcisBody": {"eventList": list(events)},
    }


# ------------------------------------------------------------------ generator

_BUILDERS: dict[str, Callable[[_Builder, str], dict[str, Any]]] = {
    "waybill": _waybill,
    "order": _order,
    "declaration": _declaration,
}


def generate(n: int, *, seed: int, kinds: Sequence[str] | None = None) -> Iterator[SyntheticRecord]:
    """`n` records of the corridor's traffic mix (or only of `kinds`), reproducible by `seed`."""
    chosen = tuple(kinds) if kinds else KINDS
    unknown = set(chosen) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; known: {KINDS}")
    pools = Pools(seed)
    rng = random.Random(seed + 1)
    weights = [_WEIGHTS[k] for k in chosen]
    for _ in range(n):
        kind = rng.choices(chosen, weights)[0]
        dest = rng.choice(DESTINATIONS)
        b = _Builder(pools, rng)
        if kind == "epcis":
            record = epcis_event(rng, rng.choice(EPCIS_EVENT_TYPES))
        else:
            record = _BUILDERS[kind](b, dest)
        yield SyntheticRecord(
            product=PRODUCT_OF_KIND[kind],
            record=record,
            labels=tuple(b.labels),
            origin="CN",
            destination=dest,
            purpose=PURPOSE_OF_KIND[kind],
        )
