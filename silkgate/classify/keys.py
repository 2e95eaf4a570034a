"""Key names that announce what a value holds, in the corridor's languages.

A key is lower-cased, split on separators and camelCase into tokens and joined with "_";
a phrase matches when its tokens appear consecutively. Keys in CJK, Thai or Vietnamese
with diacritics are matched by substring.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Final

from silkgate.classify.registry import KeyContext
from silkgate.model import FindingType

_CAMEL: Final = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT: Final = re.compile(r"[^0-9a-z]+")

# Ordered: the first type whose phrase matches wins ("card_holder_name" is a name).
_LATIN: Final[tuple[tuple[FindingType, tuple[str, ...]], ...]] = (
    ("passport", ("passport", "paspor", "pasport", "ho_chieu", "hochieu")),
    ("email", ("email", "e_mail", "mail", "emel", "surel")),
    (
        "date_of_birth",
        (
            "dob",
            "birthday",
            "birthdate",
            "birth",
            "ngay_sinh",
            "ngaysinh",
            "tarikh_lahir",
            "tanggal_lahir",
            "tgl_lahir",
            "lahir",
        ),
    ),
    (
        "phone",
        (
            "phone",
            "tel",
            "telephone",
            "mobile",
            "cell",
            "cellphone",
            "msisdn",
            "sdt",
            "hp",
            "no_hp",
            "handphone",
            "telepon",
            "telefon",
            "whatsapp",
            "contact_no",
            "contact_number",
            "dien_thoai",
            "dienthoai",
            "fax",
        ),
    ),
    (
        "national_id",
        (
            "id_number",
            "id_no",
            "idno",
            "idnumber",
            "national_id",
            "nationalid",
            "citizen_id",
            "id_card",
            "idcard",
            "identity",
            "identity_no",
            "nric",
            "fin",
            "nik",
            "ktp",
            "no_ktp",
            "mykad",
            "ic_no",
            "ic_number",
            "ic",
            "cccd",
            "cmnd",
            "can_cuoc",
            "philsys",
            "psn",
            "pcn",
            "thai_id",
            "personal_id",
            "resident_id",
            "so_cccd",
            "so_cmnd",
        ),
    ),
    (
        "bank_card",
        (
            "card_number",
            "card_no",
            "cardno",
            "cardnumber",
            "pan",
            "credit_card",
            "debit_card",
            "cc_number",
            "so_the",
            "nomor_kartu",
        ),
    ),
    (
        "bank_account",
        (
            "account",
            "account_no",
            "account_number",
            "bank_account",
            "iban",
            "acct",
            "rekening",
            "no_rekening",
            "akaun",
            "tai_khoan",
            "so_tai_khoan",
            "beneficiary_account",
        ),
    ),
    (
        "vehicle_plate",
        (
            "plate",
            "license_plate",
            "licence_plate",
            "plate_no",
            "vehicle_no",
            "vehicle_plate",
            "bien_so",
            "bienso",
            "no_polisi",
            "nopol",
        ),
    ),
    (
        "ip_address",
        (
            "ip",
            "ip_address",
            "ipaddress",
            "ip_addr",
            "client_ip",
            "remote_addr",
            "remote_ip",
            "ipv4",
            "ipv6",
        ),
    ),
    (
        "precise_location",
        (
            "lat",
            "latitude",
            "lng",
            "lon",
            "long",
            "longitude",
            "coordinates",
            "coords",
            "gps",
            "geo",
            "geolocation",
            "latlng",
        ),
    ),
    (
        "address",
        (
            "address",
            "addr",
            "street",
            "line1",
            "line2",
            "address1",
            "address2",
            "address_line",
            "alamat",
            "dia_chi",
            "diachi",
            "residence",
        ),
    ),
    (
        "person_name",
        (
            "full_name",
            "fullname",
            "first_name",
            "firstname",
            "last_name",
            "lastname",
            "given_name",
            "family_name",
            "surname",
            "ho_ten",
            "hoten",
            "ho_va_ten",
            "nama",
            "nama_lengkap",
            "nama_penerima",
            "penerima",
            "holder_name",
            "cardholder",
            "contact_person",
            "ten_nguoi_nhan",
        ),
    ),
)

_LOCAL: Final[tuple[tuple[FindingType, tuple[str, ...]], ...]] = (
    ("passport", ("护照", "hộ chiếu", "หนังสือเดินทาง")),
    ("email", ("邮箱", "邮件", "อีเมล")),
    ("date_of_birth", ("出生", "生日", "ngày sinh", "วันเกิด")),
    ("national_id", ("身份证", "证件号", "căn cước", "บัตรประชาชน", "เลขประจำตัว")),
    ("phone", ("电话", "手机", "联系方式", "điện thoại", "sđt", "โทร", "เบอร์")),
    ("bank_card", ("银行卡", "卡号", "số thẻ", "บัตรเครดิต")),
    ("bank_account", ("账号", "账户", "tài khoản", "บัญชี")),
    ("vehicle_plate", ("车牌", "biển số", "ทะเบียนรถ")),
    ("address", ("地址", "住址", "địa chỉ", "ที่อยู่")),
    (
        "person_name",
        (
            "姓名",
            "收件人",
            "收货人",
            "联系人",
            "寄件人",
            "名字",
            "họ tên",
            "họ và tên",
            "người nhận",
            "ผู้รับ",
            "ชื่อ",
        ),
    ),
)

# A bare "name" is a person's only under a person-ish parent ("consignee": {"name": ...}).
_NAME_TOKENS: Final[tuple[str, ...]] = ("name", "ten", "nama", "ho_ten")
_PERSON_PARENTS: Final[tuple[str, ...]] = (
    "consignee",
    "receiver",
    "recipient",
    "buyer",
    "customer",
    "sender",
    "contact",
    "passenger",
    "driver",
    "person",
    "user",
    "holder",
    "shipto",
    "ship_to",
    "shipping_address",
    "billing_address",
    "penerima",
    "pengirim",
    "nguoi_nhan",
    "nguoi_gui",
    "member",
    "patient",
    "employee",
    "traveller",
    "traveler",
    "收件人",
    "收货人",
    "寄件人",
    "联系人",
    "người nhận",
    "ผู้รับ",
)
_NOT_PERSON: Final[tuple[str, ...]] = (
    "product",
    "item",
    "goods",
    "sku",
    "company",
    "shipper",
    "seller",
    "merchant",
    "carrier",
    "store",
    "shop",
    "brand",
    "declarant",
    "warehouse",
    "port",
    "vessel",
    "city",
    "province",
    "country",
    "district",
    "file",
    "event",
    "type",
    "field",
    "สินค้า",
    "商品",
    "公司",
    "hàng",
)

_BUSINESS: Final[tuple[str, ...]] = (
    "waybill",
    "waybill_no",
    "tracking",
    "tracking_no",
    "tracking_number",
    "awb",
    "sku",
    "gtin",
    "ean",
    "upc",
    "sscc",
    "gln",
    "hs",
    "hs_code",
    "hscode",
    "tariff",
    "container",
    "container_no",
    "order_id",
    "order_no",
    "order_number",
    "declaration_no",
    "uscc",
    "uen",
    "invoice",
    "invoice_no",
    "epc",
    "lot",
    "batch",
    "event_id",
    "eventid",
    "parcel_id",
    "shipment_id",
    "mawb",
    "hawb",
    "bill_of_lading",
    "bl_no",
    "vessel",
    "voyage",
    "flight",
    "seal_no",
    "运单",
    "单号",
    "订单号",
    "海关编码",
    "商品编码",
    "集装箱",
    "信用代码",
    "mã vận đơn",
    "vận đơn",
)


def _tokens(key: str) -> str:
    return "_" + "_".join(t for t in _SPLIT.split(_CAMEL.sub("_", key).lower()) if t) + "_"


def _has(padded: str, raw: str, phrases: tuple[str, ...]) -> bool:
    for p in phrases:
        if p.isascii():
            if f"_{p}_" in padded:
                return True
        elif p in raw:
            return True
    return False


def _hint(padded: str, raw: str, parent: str | None) -> FindingType | None:
    for ftype, phrases in _LATIN:
        if _has(padded, raw, phrases):
            return ftype
    for ftype, phrases in _LOCAL:
        if _has(padded, raw, phrases):
            if ftype == "person_name" and _has(padded, raw, _NOT_PERSON):
                return None
            return ftype
    if (
        parent is not None
        and _has(padded, raw, _NAME_TOKENS)
        and not _has(padded, raw, _NOT_PERSON)
    ):
        ppad, praw = _tokens(parent), parent.lower()
        if _has(ppad, praw, _PERSON_PARENTS) or _has(padded, raw, _PERSON_PARENTS):
            return "person_name"
    elif _has(padded, raw, _NAME_TOKENS) and _has(padded, raw, _PERSON_PARENTS):
        return "person_name"
    if padded.strip("_") in _PERSON_PARENTS:  # "receiver": "Nguyễn Văn An"
        return "person_name"
    return None


@lru_cache(maxsize=4096)
def key_context(parent: str | None, key: str) -> KeyContext:
    """The KeyContext for ``key`` under ``parent`` (the enclosing object's key)."""
    raw = key.lower()
    padded = _tokens(key)
    hint = _hint(padded, raw, parent)
    if hint is None and _has(padded, raw, _BUSINESS):
        return KeyContext(business=True)
    if hint is None:
        return _EMPTY
    return KeyContext(hint=hint, context=frozenset({hint}))


_EMPTY: Final = KeyContext()
