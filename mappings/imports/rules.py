"""Value rules of a mapped column: turn a bank's way of writing a value into one the standard template's
converters accept (they then check it exactly as for the standard template).

Dates: 2026/9/1, 20260901, 2026年9月1日 and Excel serials are read by the standard converter already; here
day-first and month-first text dates and a trailing time of day. Amounts: commas, ¥ and 元 are the standard
converter's; here 万元 (by the column's unit or written in the cell) and negatives in brackets. ID numbers: a
15-digit number becomes its 18-digit form, a lower-case x upper case. Contacts: phone lists split on ，/;/、/
spaces, name/relation pairs and whole contact lists written in one cell. Pure: no ORM.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from cases.imports.excel import _FULLWIDTH, CellValue, RowProblem, _text
from cases.validators import id_check_digit, is_landline, is_mobile, normalize_phone
from mappings.imports.spec import DMY, MDY, WAN, YMD

_WAN = Decimal(10000)
_BRACKETS = re.compile(r"^[(（]\s*(.+?)\s*[)）]$")
_TIME_TAIL = re.compile(r"^(\S+?)[ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$")
_SLASHED = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{4})$")
PHONE_SPLIT = re.compile(r"[,，;；、/／|\s\u3000]+")
_PHONE_IN_TEXT = re.compile(r"(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?")
_MOBILE_FAST = re.compile(r"1[3-9]\d{9}")
_ENTRY_SPLIT = re.compile(r"[;；\n]+")
_PAIR_SEPARATORS = re.compile(r"[\s()（）/／:：\-—,，、|]+")
RELATIONS = ("配偶", "丈夫", "妻子", "老公", "老婆", "父亲", "母亲", "父母", "儿子", "女儿", "子女", "兄弟",
             "姐妹", "哥哥", "弟弟", "姐姐", "妹妹", "朋友", "同事", "同学", "亲属", "亲戚", "爷爷", "奶奶", "外公",
             "外婆", "祖父", "祖母", "岳父", "岳母", "公公", "婆婆", "女婿", "儿媳", "叔叔", "阿姨",
             "舅舅", "姑姑", "表兄弟", "堂兄弟", "邻居",
             "领导", "同居人", "男友", "女友", "担保人", "其他", "本人")
_RELATION_RE = re.compile("|".join(sorted(RELATIONS, key=len, reverse=True)))


def money(unit: str) -> Callable[[CellValue], CellValue]:
    """The cell as the standard money converter reads it: 万元 scaled to 元, (1,234.50) as -1234.50."""
    scale = unit == WAN

    def convert(value: CellValue) -> CellValue:
        if type(value) is float or type(value) is int:
            return _scaled(Decimal(repr(value)) if type(value) is float else Decimal(value)) if scale else value
        if not isinstance(value, str):
            return value
        text = value.translate(_FULLWIDTH).replace(" ", "").strip()
        negative = False
        match = _BRACKETS.match(text)
        if match:
            negative, text = True, match.group(1)
        in_wan = scale
        for suffix in ("万元", "万"):
            if text.endswith(suffix):
                text, in_wan = text[: -len(suffix)], True
                break
        if not negative and not in_wan:
            return value
        text = text.lstrip("¥￥").removesuffix("元").replace(",", "")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return value  # not a number: the standard converter explains
        if not number.is_finite():
            return value
        if in_wan:
            number *= _WAN
        return format(-number if negative else number, "f")

    return convert


def _scaled(number: Decimal) -> str:
    return format(number * _WAN, "f")


def _one_phone(text: str) -> str:
    """A phone as stored: a mobile without its hyphens or spaces (138-1234-5678), a landline with its area code."""
    phone = normalize_phone(text)
    bare = phone.replace("-", "")
    return bare if is_mobile(bare) else phone


def date(order: str) -> Callable[[CellValue], CellValue]:
    """The cell as the standard date converter reads it: a time of day dropped, 9/1/2026 read in `order`."""

    def convert(value: CellValue) -> CellValue:
        if not isinstance(value, str):
            return value
        text = value.strip()
        match = _TIME_TAIL.match(text)
        if match:
            text = match.group(1)
        if order != YMD:
            slashed = _SLASHED.match(text.translate(_FULLWIDTH))
            if slashed:
                first, second, year = slashed.groups()
                month, day = (first, second) if order == MDY else (second, first)
                return f"{year}-{int(month):02d}-{int(day):02d}"
        return text

    assert order in (YMD, MDY, DMY)
    return convert


def id_number(value: CellValue) -> CellValue:
    """A 15-digit ID number as its 18-digit form (19 inserted before the year, check digit added), upper case."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif isinstance(value, float) and value.is_integer() and value < 1e15:
        value = str(int(value))
    if not isinstance(value, str):
        return value
    text = value.translate(_FULLWIDTH).replace(" ", "").strip()
    if len(text) == 15 and text.isdigit():
        first17 = text[:6] + "19" + text[6:]
        return first17 + id_check_digit(first17)
    if len(text) == 18 and text[17] in "xｘ":
        return text[:17] + "X"
    return value


def phones(value: CellValue, what: str = "电话") -> list[str]:
    """Every phone number of a cell written as a list (，/;/、/ / spaces); RowProblem names the bad parts."""
    if type(value) is str and len(value) == 11 and value.isascii() and _MOBILE_FAST.fullmatch(value):
        return [value]  # the usual single mobile, without the list machinery
    found: list[str] = []
    bad: list[str] = []
    for part in PHONE_SPLIT.split(_text(value).translate(_FULLWIDTH)):
        if not part:
            continue
        phone = _one_phone(part)
        if is_mobile(phone) or is_landline(phone):
            if phone not in found:
                found.append(phone)
        else:
            bad.append(part)
    if bad:
        raise RowProblem(f"{what}“{'、'.join(bad)}”无效：应为 11 位手机号码或带区号的固定电话，"
                         "多个号码用逗号、分号或空格分隔")
    return found


def name_relation(value: CellValue) -> tuple[str, str]:
    """"李四（配偶）", "配偶：李四", "李四/配偶", "李四 配偶" → (李四, 配偶)."""
    text = _text(value)
    match = _RELATION_RE.search(text)
    if match:
        relation = match.group(0)
        name = _PAIR_SEPARATORS.sub(" ", text[: match.start()] + " " + text[match.end():]).strip()
        return name, relation
    parts = [p for p in _PAIR_SEPARATORS.split(text) if p]
    if len(parts) >= 2:
        return parts[0], "".join(parts[1:])
    return text.strip(), ""


def contact_entries(value: CellValue) -> list[tuple[str, str, list[str]]]:
    """A whole contact list in one cell: "李四 配偶 13900001111；王五(朋友)13700001111" → [(name, relation,
    phones), ...]. Entries are split on ；/; or line breaks; in each, the phone numbers are taken out, a known
    relation word is the relation and what is left is the name."""
    entries: list[tuple[str, str, list[str]]] = []
    for entry in _ENTRY_SPLIT.split(_text(value).translate(_FULLWIDTH)):
        if not entry.strip():
            continue
        numbers = [_one_phone(m.group(0).replace(" ", "")) for m in _PHONE_IN_TEXT.finditer(entry)]
        rest = _PHONE_IN_TEXT.sub(" ", entry)
        name, relation = name_relation(rest)
        entries.append((name.strip(" ,，、:："), relation, numbers))
    return entries


def numbers_only(value: str) -> list[str]:
    """The phone numbers of a cell that holds nothing but phone numbers and separators; else []."""
    text = value.translate(_FULLWIDTH)
    found = [_one_phone(m.group(0).replace(" ", "")) for m in _PHONE_IN_TEXT.finditer(text)]
    if not found or PHONE_SPLIT.sub("", _PHONE_IN_TEXT.sub("", text)):
        return []
    return found
