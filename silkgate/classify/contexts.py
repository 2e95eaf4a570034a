"""Words near a candidate that make a bare, unvalidatable form credible (a passport code
next to "hộ chiếu"), or that mark a number as a business reference ("HS 0901210000")."""

from __future__ import annotations

from typing import Final

from silkgate.classify.lexmatch import WordList, lowered
from silkgate.classify.profile import profile
from silkgate.classify.registry import KeyContext

_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "passport": (
        "passport",
        "pasport",
        "paspor",
        "护照",
        "hộ chiếu",
        "ho chieu",
        "หนังสือเดินทาง",
        "pp",
    ),
    "national_id": (
        "id",
        "ic",
        "nric",
        "fin",
        "nik",
        "ktp",
        "mykad",
        "cccd",
        "cmnd",
        "căn cước",
        "can cuoc",
        "身份证",
        "证件",
        "บัตรประชาชน",
        "เลขประจำตัว",
        "philsys",
        "psn",
        "pcn",
        "citizen",
        "national id",
        "identity",
        "identification",
        "kad pengenalan",
        "nomor induk",
    ),
    "date_of_birth": (
        "dob",
        "born",
        "birth",
        "birthday",
        "ngày sinh",
        "sinh ngày",
        "ngay sinh",
        "出生",
        "生日",
        "วันเกิด",
        "เกิด",
        "lahir",
    ),
    "bank_account": (
        "account",
        "acct",
        "a/c",
        "tài khoản",
        "tai khoan",
        "stk",
        "账号",
        "账户",
        "บัญชี",
        "rekening",
        "akaun",
        "bank",
        "ngân hàng",
        "银行",
    ),
    "bank_card": ("card", "thẻ", "卡号", "银行卡", "บัตร", "kartu", "kad"),
    "phone": (
        "tel",
        "phone",
        "mobile",
        "call",
        "sđt",
        "sdt",
        "đt",
        "điện thoại",
        "gọi",
        "电话",
        "手机",
        "联系",
        "致电",
        "โทร",
        "เบอร์",
        "telepon",
        "hp",
        "wa",
        "whatsapp",
        "hubungi",
        "zalo",
        "wechat",
        "微信",
        "line",
    ),
    "vehicle_plate": ("plate", "biển số", "bks", "车牌", "ทะเบียน", "nopol", "plat nomor"),
    # Titles and words that introduce a person (evidence for names; untitled Thai names).
    "person_name": (
        "mr",
        "mrs",
        "ms",
        "miss",
        "encik",
        "puan",
        "bapak",
        "ibu",
        "anh",
        "chị",
        "ông",
        "bà",
        "attn",
        "recipient",
        "consignee",
        "receiver",
        "contact",
        "người nhận",
        "penerima",
        "先生",
        "女士",
        "小姐",
        "收件人",
        "收货人",
        "联系人",
        "寄件人",
        "签收",
        "交给",
        "คุณ",
        "นาย",
        "นาง",
        "ผู้รับ",
        "ส่งให้",
        "ติดต่อ",
        "ชื่อ",
    ),
    "address": (
        "address",
        "deliver to",
        "send to",
        "ship to",
        "giao tới",
        "giao đến",
        "địa chỉ",
        "地址",
        "送到",
        "送至",
        "ส่งที่",
        "ที่อยู่",
        "kirim ke",
        "hantar ke",
        "alamat",
    ),
}
_LISTS: Final = {k: WordList(v) for k, v in _WORDS.items()}

_BUSINESS: Final = WordList(
    (
        "hs",
        "tariff",
        "order",
        "waybill",
        "tracking",
        "awb",
        "sku",
        "invoice",
        "container",
        "po",
        "ref",
        "订单",
        "运单",
        "单号",
        "编码",
        "税号",
        "đơn hàng",
        "vận đơn",
        "mã",
        "pesanan",
        "resi",
        "เลขพัสดุ",
        "คำสั่งซื้อ",
    )
)

WINDOW: Final = 48


def near(ftype: str, text: str, start: int, kc: KeyContext) -> bool:
    """Does the key, or a context word shortly before ``start``, vouch for ``ftype``?"""
    if ftype in kc.context:
        return True
    if start == 0:  # nothing before the candidate
        return False
    words = _LISTS.get(ftype)
    return words is not None and words.matches(text[max(0, start - WINDOW) : start].lower())


def anywhere(ftype: str, text: str, kc: KeyContext) -> bool:
    if ftype in kc.context:
        return True
    if profile(text).first_letter >= len(text):  # no letter: no word
        return False
    lower, words = lowered(text)
    return _LISTS[ftype].matches(lower, words)


def business_before(text: str, start: int) -> bool:
    """A business label ("HS", "订单", "vận đơn") right before a number."""
    if start == 0:
        return False
    return _BUSINESS.matches(text[max(0, start - 20) : start].lower())
