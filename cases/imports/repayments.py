"""The bank's repayment list (.xlsx): 案件编号 or 卡号, 还款金额, 还款日期, optional 流水号 → typed rows + errors.

Pure: no ORM, no request. Reading follows cases.imports.excel (content sniffed first, python-calamine,
header names not positions, RowError with the Excel row, the column and a Chinese reason).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import BinaryIO

from python_calamine import CalamineWorkbook

from cases.imports.excel import (
    _UNREADABLE,
    CellValue,
    RowProblem,
    _data_sheet_name,
    _date,
    _header_key,
    _money,
    _text,
    sniff_xlsx,
)
from cases.imports.rows import RowError

CASE_NO, CARD_NO, AMOUNT, DAY, REF, NOTE = "案件编号", "卡号", "还款金额", "还款日期", "流水号", "备注"
# Other spellings banks use in their notices for the same columns.
_ALIASES = {"回款金额": AMOUNT, "金额": AMOUNT, "还款额": AMOUNT, "回款日期": DAY, "日期": DAY, "入账日期": DAY,
            "交易流水号": REF, "银行流水号": REF, "通知编号": REF, "参考号": REF, "合同号": CASE_NO}
MAX_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class RepaymentRow:
    row_number: int
    case_no: str
    card_no: str
    amount: Decimal
    repaid_on: dt.date
    bank_ref: str = ""
    note: str = ""


@dataclass
class RepaymentParseResult:
    rows: list[RepaymentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_repayment_workbook(file: BinaryIO, *, max_uncompressed_bytes: int = 256 * 1024 * 1024,
                             today: dt.date | None = None) -> RepaymentParseResult:
    """Parse the first data sheet. Never raises for bad content: problems come back as errors."""
    data = file.read()
    result = RepaymentParseResult()
    problem = sniff_xlsx(data, max_uncompressed_bytes=max_uncompressed_bytes, max_rows=MAX_ROWS)
    if problem is not None:
        result.errors.append(RowError(0, "", problem))
        return result
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_name(_data_sheet_name(workbook))
        _rows(sheet.iter_rows(), result, today=today)
    except _UNREADABLE:
        result.rows.clear()
        result.errors.append(RowError(0, "", "无法读取工作簿内容，文件可能已损坏"))
    except BaseException as error:
        if type(error).__name__ != "PanicException":
            raise
        result.rows.clear()
        result.errors.append(RowError(0, "", "无法读取工作簿内容，文件可能已损坏"))
    return result


def parse_repayment_rows(rows: Iterable[Sequence[CellValue]], *, today: dt.date | None = None) -> RepaymentParseResult:
    """Rows already read, header first, each at its sheet row number: the parser behind
    `parse_repayment_workbook`, for a bank's own layout laid out under these headers by an import mapping."""
    result = RepaymentParseResult()
    _rows(rows, result, today=today)
    return result


def _rows(rows: Iterable[Sequence[CellValue]], result: RepaymentParseResult, *, today: dt.date | None) -> None:
    header: dict[str, int] = {}
    header_row = 0
    for number, cells in enumerate(rows, start=1):
        if not header:
            keys = [_header_key(c) for c in cells]
            if not any(keys):
                continue
            header_row = number
            for index, key in enumerate(keys):
                name = _ALIASES.get(key, key)
                if name and name not in header:
                    header[name] = index
            missing = [c for c in (AMOUNT, DAY) if c not in header]
            if CASE_NO not in header and CARD_NO not in header:
                missing.insert(0, "案件编号或卡号")
            if missing:
                result.errors.append(RowError(header_row, "", f"表头缺少必填列：{'、'.join(missing)}"))
                return
            continue
        if number - header_row > MAX_ROWS:
            result.errors.append(RowError(number, "", f"数据超过 {MAX_ROWS} 行，请分文件上传"))
            return
        _row(number, cells, header, result, today=today)


def _cell(cells: Sequence[object], header: dict[str, int], name: str) -> object:
    index = header.get(name)
    return cells[index] if index is not None and index < len(cells) else ""


def _row(number: int, cells: Sequence[object], header: dict[str, int], result: RepaymentParseResult, *,
         today: dt.date | None) -> None:
    values = {name: _cell(cells, header, name) for name in (CASE_NO, CARD_NO, AMOUNT, DAY, REF, NOTE)}
    texts = {name: _text(value).replace(" ", "") if name in (CASE_NO, CARD_NO, REF) else _text(value)  # type: ignore[arg-type]
             for name, value in values.items()}
    if not any(texts.values()):
        return  # a blank line between blocks of the bank's list
    errors_before = len(result.errors)
    if not texts[CASE_NO] and not texts[CARD_NO]:
        result.errors.append(RowError(number, "案件编号或卡号", "请填写案件编号或卡号"))
    amount = Decimal(0)
    try:
        if not texts[AMOUNT]:
            raise RowProblem("请填写还款金额")
        amount = _money(values[AMOUNT])  # type: ignore[arg-type]
        if amount <= 0:
            raise RowProblem("还款金额必须大于 0")
    except RowProblem as problem:
        result.errors.append(RowError(number, AMOUNT, str(problem).replace("金额", "还款金额", 1)
                                      if not str(problem).startswith("还款") else str(problem)))
    day = dt.date.min
    try:
        if not texts[DAY]:
            raise RowProblem("请填写还款日期")
        day = _date(values[DAY])  # type: ignore[arg-type]
        if today is not None and day > today:
            raise RowProblem(f"还款日期 {day:%Y-%m-%d} 晚于今天")
    except RowProblem as problem:
        result.errors.append(RowError(number, DAY, str(problem)))
    if len(texts[REF]) > 64:
        result.errors.append(RowError(number, REF, "流水号过长（最多 64 个字符）"))
    if len(result.errors) > errors_before:
        return
    result.rows.append(RepaymentRow(row_number=number, case_no=texts[CASE_NO][:64], card_no=texts[CARD_NO][:32],
                                    amount=amount, repaid_on=day, bank_ref=texts[REF], note=texts[NOTE][:200]))
