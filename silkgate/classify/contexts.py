"""Words near a candidate that make a bare, unvalidatable form credible (a passport code
next to "hộ chiếu"), or that mark a number as a business reference ("HS 0901210000")."""

from __future__ import annotations

import re

from silkgate.classify.registry import KeyContext

_WORDS: dict[str, str] = {
    "passport": r"passport|pasport|paspor|护照|hộ\s*chiếu|ho\s*chieu|หนังสือเดินทาง|\bPP\b",
    "national_id": (
        r"\bID\b|\bIC\b|NRIC|\bFIN\b|\bNIK\b|KTP|MyKad|CCCD|CMND|căn\s*cước|can\s*cuoc|身份证|"
        r"证件|บัตรประชาชน|เลขประจำตัว|PhilSys|\bPSN\b|\bPCN\b|citizen|national\s*id|identity|"
        r"identification|kad\s*pengenalan|nomor\s*induk"
    ),
    "date_of_birth": (
        r"\bDOB\b|born|birth|ngày\s*sinh|sinh\s*ngày|ngay\s*sinh|出生|生日|วันเกิด|เกิด|lahir"
    ),
    "bank_account": (
        r"account|\bacct\b|\ba/c\b|tài\s*khoản|tai\s*khoan|\bSTK\b|账号|账户|บัญชี|rekening|"
        r"akaun|\bbank\b|ngân\s*hàng|银行"
    ),
    "bank_card": r"card|thẻ|卡号|银行卡|บัตร|kartu|kad",
    "phone": (
        r"\btel\b|phone|mobile|call|\bSĐT\b|\bSDT\b|\bĐT\b|điện\s*thoại|gọi|电话|手机|联系|致电|"
        r"โทร|เบอร์|telepon|\bHP\b|\bWA\b|whatsapp|hubungi|zalo|wechat|微信|\bLINE\b"
    ),
    "vehicle_plate": r"plate|biển\s*số|\bBKS\b|车牌|ทะเบียน|nopol|plat\s*nomor",
}
_COMPILED = {k: re.compile(v, re.IGNORECASE) for k, v in _WORDS.items()}
_BUSINESS = re.compile(
    r"\bHS\b|tariff|order|waybill|tracking|\bAWB\b|\bSKU\b|invoice|container|\bPO\b|"
    r"\bref\b|订单|运单|单号|编码|税号|đơn\s*hàng|vận\s*đơn|\bmã\b|pesanan|\bresi\b|"
    r"เลขพัสดุ|คำสั่งซื้อ",
    re.IGNORECASE,
)

WINDOW = 48


def near(ftype: str, text: str, start: int, kc: KeyContext) -> bool:
    """Does the key, or a context word shortly before ``start``, vouch for ``ftype``?"""
    if ftype in kc.context:
        return True
    pattern = _COMPILED.get(ftype)
    return pattern is not None and pattern.search(text, max(0, start - WINDOW), start) is not None


def anywhere(ftype: str, text: str, kc: KeyContext) -> bool:
    return ftype in kc.context or _COMPILED[ftype].search(text) is not None


def business_before(text: str, start: int) -> bool:
    """A business label ("HS", "订单", "vận đơn") right before a number."""
    return _BUSINESS.search(text, max(0, start - 20), start) is not None
