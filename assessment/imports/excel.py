"""Read an applicant intake workbook into `ApplicantInput`s and `RowError`s.

Same discipline as the case batch import (cases.imports.excel): the file's content is sniffed first
(`sniff_xlsx`: a renamed .xls, an encrypted workbook or a zip bomb is refused with a clear message),
python-calamine reads the rows one by one, headers are matched by name, every row is checked and every
problem is reported with its Excel row and column; one problem anywhere means nothing is imported.
Pure: no ORM. ID numbers are checked by `cases.validators`, never here.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import BinaryIO

from python_calamine import CalamineError, CalamineWorkbook

from assessment.identity import age_on, birth_date_of, sex_of
from assessment.imports.rows import ApplicantInput, IntakeResult
from cases.imports.excel import read_header, sniff_xlsx
from cases.imports.rows import RowError
from cases.validators import id_number_error, is_mobile, normalize_id_number, normalize_phone, normalize_width

CellValue = int | float | str | bool | dt.date | dt.datetime | dt.time | dt.timedelta
MAX_ROWS = 5000
MAX_ERRORS = 1000
MIN_AGE = 18
INSTRUCTIONS_SHEET = "填写说明"


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    required: bool
    fmt: str
    example: str


COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", True, "文本，最长 64 字", "张三"),
    Column("证件号码", "id_number", True, "18 位居民身份证号码（末位校验码须正确）或 15 位旧号码；请设为文本格式",
           "110101199003070017"),
    Column("手机号码", "phone", True, "11 位手机号码（1 开头，第二位 3-9）", "13812345678"),
    Column("工作单位", "employer", False, "文本，最长 128 字", "沈阳某某科技有限公司"),
    Column("工作年限", "employment_years", False, "年，不小于 0，最多 1 位小数；不填按 0", "3.5"),
    Column("月收入", "monthly_income", True, "金额（元），不小于 0，最多 2 位小数", "8,000.00"),
    Column("现有负债总额", "total_debt", False, "金额（元），不填按 0", "50,000.00"),
    Column("现有月还款额", "monthly_debt_payment", False, "金额（元），不填按 0", "1,500.00"),
    Column("申请金额", "loan_amount", True, "金额（元），大于 0", "100,000.00"),
    Column("申请期限", "loan_term_months", True, "月数，1 到 360 的整数", "36"),
    Column("贷款用途", "purpose", False, "文本，最长 128 字", "装修"),
    Column("抵押担保", "collateral", False, "文本，最长 255 字；没有可不填", "房产抵押"),
    Column("逾期记录", "overdue_records", False, "征信中现有的逾期次数，不小于 0 的整数；不填按 0", "0"),
)
HEADERS = tuple(c.header for c in COLUMNS)
REQUIRED = tuple(c.header for c in COLUMNS if c.required)
# Headers people write differently; matched after blanks, asterisks and bracketed units are removed.
ALIASES = {"身份证号码": "证件号码", "身份证号": "证件号码", "手机": "手机号码", "电话": "手机号码",
           "单位名称": "工作单位", "抵押/担保": "抵押担保", "抵押或担保": "抵押担保", "申请期限月": "申请期限",
           "逾期记录次": "逾期记录", "工作年限年": "工作年限"}
_LIMITS = {"name": 64, "employer": 128, "purpose": 128, "collateral": 255}
_HEADER_NOISE = re.compile(r"[\s\u3000*＊()（）]|元")
_MONEY = re.compile(r"^\d+(\.\d+)?$")
_MONEY_GROUPED = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
_CENT = Decimal("0.01")
_MAX_MONEY = Decimal("999999999999.99")
_UNREADABLE = (CalamineError, ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile, KeyError,
               NotImplementedError, RuntimeError, UnicodeError)


class Problem(ValueError):
    """A value could not be read; the message is the Chinese reason."""


def _text(value: CellValue) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime | dt.date):
        return f"{value:%Y-%m-%d}"
    return str(value)


def _number(value: CellValue, what: str) -> Decimal:
    if isinstance(value, bool | dt.date | dt.time | dt.timedelta):
        raise Problem(f"{what}应为数字")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(repr(value))
        return number if number == number.to_integral_value() else number.quantize(Decimal("0.000000001")).normalize()
    text = normalize_width(value).replace(" ", "").lstrip("¥￥").removesuffix("元")
    if _MONEY_GROUPED.match(text):
        text = text.replace(",", "")
    if text.startswith("-") and _MONEY.match(text[1:]):
        raise Problem(f"{what}不能为负数")
    if not _MONEY.match(text):
        raise Problem(f"{what}“{_text(value)}”不是有效的数字")
    try:
        return Decimal(text)
    except InvalidOperation as error:  # pragma: no cover - guarded by the pattern
        raise Problem(f"{what}“{_text(value)}”不是有效的数字") from error


def money(value: CellValue, what: str = "金额") -> Decimal:
    number = _number(value, what)
    if number != number.quantize(_CENT):
        raise Problem(f"{what}“{_text(value)}”最多保留 2 位小数")
    if number > _MAX_MONEY:
        raise Problem(f"{what}“{_text(value)}”过大")
    return number.quantize(_CENT)


def _whole(value: CellValue, what: str, low: int, high: int) -> int:
    number = _number(value, what)
    if number != number.to_integral_value() or not low <= number <= high:
        raise Problem(f"{what}“{_text(value)}”应为 {low} 到 {high} 的整数")
    return int(number)


def id_number_value(value: CellValue, *, today: dt.date) -> tuple[str, dt.date, str]:
    """The normalised number, the birth date and the sex; Problem with the reason otherwise."""
    if isinstance(value, float | int) and not isinstance(value, bool) and len(_text(value)) > 15:
        raise Problem("证件号码是数字格式，Excel 会截断 15 位以后的数字；请把该列设为文本格式后重新填写")
    number = normalize_id_number(_text(value))
    reason = id_number_error(number)
    if reason is not None:
        raise Problem(f"证件号码“{number}”无效：{reason}")
    try:
        birth = birth_date_of(number)
    except ValueError as error:
        raise Problem(f"证件号码“{number}”中的出生日期不存在") from error
    if birth > today:
        raise Problem(f"证件号码“{number}”中的出生日期 {birth:%Y-%m-%d} 晚于今天")
    if age_on(birth, today) < MIN_AGE:
        raise Problem(f"申请人未满 {MIN_AGE} 周岁（出生日期 {birth:%Y-%m-%d}），不能申请贷款")
    return number, birth, sex_of(number)


def phone_value(value: CellValue) -> str:
    phone = normalize_phone(_text(value))
    if not is_mobile(phone):
        raise Problem(f"手机号码“{_text(value)}”无效：应为 11 位、以 13-19 开头的手机号码")
    return phone


def _limited(field: str) -> Callable[[CellValue], str]:
    limit = _LIMITS[field]

    def convert(value: CellValue) -> str:
        text = _text(value)
        if len(text) > limit:
            raise Problem(f"过长：最多 {limit} 个字，实际 {len(text)} 个")
        return text

    return convert


def _positive_money(value: CellValue) -> Decimal:
    number = money(value, "申请金额")
    if number <= 0:
        raise Problem("申请金额必须大于 0")
    return number


def _years(value: CellValue) -> Decimal:
    number = _number(value, "工作年限")
    if number != number.quantize(Decimal("0.1")) or number > 60:
        raise Problem(f"工作年限“{_text(value)}”应为 0 到 60 之间、最多 1 位小数的年数")
    return number.quantize(Decimal("0.1"))


_CONVERTERS: dict[str, Callable[[CellValue], object]] = {
    "name": _limited("name"), "phone": phone_value, "employer": _limited("employer"),
    "employment_years": _years, "monthly_income": lambda v: money(v, "月收入"),
    "total_debt": lambda v: money(v, "现有负债总额"), "monthly_debt_payment": lambda v: money(v, "现有月还款额"),
    "loan_amount": _positive_money, "loan_term_months": lambda v: _whole(v, "申请期限", 1, 360),
    "purpose": _limited("purpose"), "collateral": _limited("collateral"),
    "overdue_records": lambda v: _whole(v, "逾期记录", 0, 999),
}


def _header_key(value: CellValue) -> str:
    key = _HEADER_NOISE.sub("", _text(value))
    return ALIASES.get(key, key)


def parse_applicant_workbook(file: BinaryIO, *, today: dt.date, max_rows: int = MAX_ROWS,
                             max_uncompressed_bytes: int = 256 * 1024 * 1024) -> IntakeResult:
    """Every valid row, or every problem of the file. Never raises for bad content."""
    result = IntakeResult()
    data = file.read()
    refusal = sniff_xlsx(data, max_uncompressed_bytes=max_uncompressed_bytes, max_rows=max_rows)
    if refusal is not None:
        result.errors.append(RowError(0, "", refusal))
        return result
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in workbook.sheets_metadata if m.name != INSTRUCTIONS_SHEET]
        if not names:
            result.errors.append(RowError(0, "", "工作簿中没有数据工作表"))
            return result
        rows = workbook.get_sheet_by_name(names[0]).iter_rows()
        _parse(rows, result, today=today, max_rows=max_rows)
    except _UNREADABLE as error:
        result.rows.clear()
        result.errors.append(RowError(0, "", f"无法读取工作簿内容，文件可能已损坏（{str(error)[:120]}）"))
    except BaseException as error:
        if type(error).__name__ != "PanicException":  # calamine's Rust panics: bad input, not a crash
            raise
        result.rows.clear()
        result.errors.append(RowError(0, "", "无法读取工作簿内容，文件可能已损坏"))
    return result


def _parse(rows: object, result: IntakeResult, *, today: dt.date, max_rows: int) -> None:
    errors = result.errors
    iterator = iter(rows)  # type: ignore[call-overload]
    found = read_header(iterator, errors, key=_header_key, required=REQUIRED)
    if found is None:
        return
    header_row, positions, _ = found
    seen: dict[str, int] = {}
    count = 0
    for number, cells in enumerate(iterator, start=header_row + 1):
        if not any(_text(c) for c in cells):
            continue
        count += 1
        if count > max_rows:
            result.rows.clear()
            errors.append(RowError(0, "", f"文件超过单次导入上限 {max_rows} 人，请拆分后导入"))
            return
        if len(errors) >= MAX_ERRORS:
            continue
        row, row_errors = _row(number, cells, positions, today=today)
        if row is not None:
            first = seen.setdefault(row.id_number, number)
            if first != number:
                row_errors.append(RowError(number, "证件号码", f"证件号码“{row.id_number}”与第 {first} 行重复"))
        if row_errors:
            errors.extend(row_errors)
            result.rows.clear()
        elif row is not None and not errors:
            result.rows.append(row)
    if len(errors) >= MAX_ERRORS:
        errors.append(RowError(0, "", f"问题超过 {MAX_ERRORS} 处，后面的行未再逐一检查；请先修正以上问题"))
    if count == 0 and not errors:
        errors.append(RowError(0, "", "文件只有表头，没有数据行"))


def _row(number: int, cells: list[CellValue], positions: dict[str, int], *,
         today: dt.date) -> tuple[ApplicantInput | None, list[RowError]]:
    errors: list[RowError] = []
    values: dict[str, object] = {}
    for column in COLUMNS:
        pos = positions.get(column.header)
        raw: CellValue = cells[pos] if pos is not None and pos < len(cells) else ""
        if isinstance(raw, str) and not raw.strip():
            if column.required:
                errors.append(RowError(number, column.header, "必填，不能为空"))
            continue
        try:
            if column.field == "id_number":
                values["id_number"], values["birth_date"], values["sex"] = id_number_value(raw, today=today)
            else:
                values[column.field] = _CONVERTERS[column.field](raw)
        except Problem as problem:
            errors.append(RowError(number, column.header, str(problem)))
    if errors:
        return None, errors
    return ApplicantInput(row_number=number, **values), errors  # type: ignore[arg-type]
