"""Pure checks of Chinese identity numbers and phone numbers (no ORM). Shared by imports and forms."""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ－＋（）　", "0123456789xX-+() ")

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
# Landline with area code: 024-12345678, 02412345678, (024)12345678, optional extension -123.
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}(-\d{1,6})?$")


def normalize_width(value: str) -> str:
    """Full-width digits and punctuation to ASCII; surrounding blanks removed."""
    return value.translate(_FULLWIDTH).strip()


def id_check_digit(first17: str) -> str:
    """GB 11643 check character of the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK[total % 11]


def id_number_error(value: str) -> str | None:
    """None when `value` is a valid resident ID number, else a Chinese reason."""
    if len(value) == 15:
        return None if value.isdigit() else "15 位旧身份证号码必须全部是数字"
    if len(value) != 18:
        return f"应为 18 位（或 15 位旧号码），实际为 {len(value)} 位"
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return "前 17 位必须是数字，最后一位是数字或 X"
    month, day = int(value[10:12]), int(value[12:14])
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        return f"出生日期 {value[6:14]} 无效"
    expected = id_check_digit(value[:17])
    if value[17] != expected:
        return f"校验位错误（最后一位应为 {expected}）"
    return None


def normalize_id_number(value: str) -> str:
    return normalize_width(value).replace(" ", "").upper()


def normalize_phone(value: str) -> str:
    """Digits (and the landline hyphen) only: '138 1234 5678' → '13812345678', '+86' dropped."""
    text = normalize_width(value).replace(" ", "").replace("(", "").replace(")", "-")
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    text = text.strip("-")
    if len(text) == 12 and text.startswith("0") and MOBILE_RE.match(text[1:]):
        text = text[1:]  # a mobile dialled with the trunk 0 in front
    return text


def phone_key(value: str) -> str:
    """The number as the exchange sees it, for comparing numbers written differently (one rule for the dial
    list, inbound matching and the import's duplicates): digits only, the country code (+86, 0086, 86 before a
    full national number) dropped, a mobile's stray trunk 0 (013812345678) dropped, a landline's area code
    keeping its 0. '+86 138-1234-5678', '8613812345678', '013812345678' → '13812345678';
    '024-12345678', '+86 24 1234 5678' → '02412345678'."""
    raw = re.sub(r"[^\d+]", "", normalize_width(value or ""))
    international = raw.startswith(("+86", "0086")) or (raw.startswith("86") and len(raw) >= 12)
    if raw.startswith("86") and len(raw) >= 12:
        raw = raw[2:]
    digits = re.sub(r"\D", "", normalize_phone(raw))
    if international and digits and not MOBILE_RE.match(digits) and not digits.startswith("0"):
        digits = "0" + digits  # +86 24 1234 5678: the area code's 0
    return digits


def phone_forms(value: str) -> list[str]:
    """The ways `phone_key(value)` may be stored (normalize_phone's output): the bare key and, for a landline,
    the key with its area-code hyphen after a 3- or 4-digit area code."""
    key = phone_key(value)
    if not key:
        return []
    forms = [key]
    if key.startswith("0") and len(key) >= 10:
        forms += [f"{key[:3]}-{key[3:]}", f"{key[:4]}-{key[4:]}"]
    return forms


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.match(value))


def is_landline(value: str) -> bool:
    return bool(LANDLINE_RE.match(value))
