"""A year's holiday arrangement (节假日安排) as an .xlsx: 开始日期, 结束日期, 类型 (放假 / 上班), 名称 → typed rows +
errors; and the template an admin fills in.

Pure: no ORM, no request. Reading follows cases.imports.excel (content sniffed first, python-calamine, header
names not positions, RowError with the Excel row, the column and a Chinese reason).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineWorkbook

from cases.imports.excel import _UNREADABLE, RowProblem, _data_sheet_name, _date, _header_key, _text, sniff_xlsx
from cases.imports.rows import RowError

START, END, KIND, NAME = "开始日期", "结束日期", "类型", "名称"
HEADERS = (START, END, KIND, NAME)
KIND_OFF, KIND_WORK = "放假", "上班"
_KINDS = {KIND_OFF: False, "休息": False, "假日": False, KIND_WORK: True, "调休上班": True, "工作日": True}
MAX_ROWS = 200
MAX_SPAN_DAYS = 31


@dataclass(frozen=True, slots=True)
class HolidayRow:
    row_number: int
    start: dt.date
    end: dt.date
    is_workday: bool
    name: str

    def days(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass
class HolidayParseResult:
    rows: list[HolidayRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def parse_holiday_workbook(file: BinaryIO, *, year: int) -> HolidayParseResult:
    """Parse the first data sheet; every date must fall in `year` and appear once. Never raises for bad content."""
    data = file.read()
    result = HolidayParseResult()
    problem = sniff_xlsx(data, max_uncompressed_bytes=16 * 1024 * 1024, max_rows=MAX_ROWS)
    if problem is not None:
        result.errors.append(RowError(0, "", problem))
        return result
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        rows = list(workbook.get_sheet_by_name(_data_sheet_name(workbook)).iter_rows())
    except _UNREADABLE:
        result.errors.append(RowError(0, "", "无法读取工作簿内容，文件可能已损坏"))
        return result
    _rows(rows, result, year=year)
    if not result.rows and not result.errors:
        result.errors.append(RowError(0, "", "文件中没有任何安排（表头下面没有数据行）"))
    if result.errors:
        result.rows.clear()
    return result


def _rows(rows: Sequence[Sequence[object]], result: HolidayParseResult, *, year: int) -> None:
    header: dict[str, int] = {}
    seen: dict[dt.date, int] = {}
    for number, cells in enumerate(rows, start=1):
        if not header:
            keys = [_header_key(c) for c in cells]  # type: ignore[arg-type]
            if not any(keys):
                continue
            header = {k: i for i, k in reversed(list(enumerate(keys))) if k}
            missing = [h for h in (START, KIND) if h not in header]
            if missing:
                result.errors.append(RowError(number, "", f"表头缺少必填列：{'、'.join(missing)}"))
                return
            continue
        if len(result.rows) + len(result.errors) >= MAX_ROWS:
            result.errors.append(RowError(number, "", f"超过 {MAX_ROWS} 行，一年的安排不会这么多，请检查文件"))
            return
        row = _row(number, cells, header, result, year=year)
        if row is None:
            continue
        clash = next((d for d in row.days() if d in seen), None)
        if clash is not None:
            result.errors.append(RowError(number, START, f"{clash:%Y-%m-%d} 已在第 {seen[clash]} 行出现"))
            continue
        seen.update(dict.fromkeys(row.days(), number))
        result.rows.append(row)


def _cell(cells: Sequence[object], header: dict[str, int], name: str) -> object:
    index = header.get(name)
    return cells[index] if index is not None and index < len(cells) else ""


def _row(number: int, cells: Sequence[object], header: dict[str, int], result: HolidayParseResult, *,
         year: int) -> HolidayRow | None:
    values = {h: _cell(cells, header, h) for h in HEADERS}
    if not any(_text(v) for v in values.values()):  # type: ignore[arg-type]
        return None
    before = len(result.errors)
    dates: dict[str, dt.date] = {}
    for column in (START, END):
        if column == END and not _text(values[END]):  # type: ignore[arg-type]
            continue  # a single day
        try:
            if not _text(values[column]):  # type: ignore[arg-type]
                raise RowProblem(f"请填写{column}")
            day = _date(values[column])  # type: ignore[arg-type]
        except RowProblem as problem:
            result.errors.append(RowError(number, column, str(problem)))
            continue
        if day.year != year:
            result.errors.append(RowError(number, column, f"{day:%Y-%m-%d} 不在 {year} 年"))
            continue
        dates[column] = day
    kind = _text(values[KIND]).replace(" ", "")  # type: ignore[arg-type]
    if kind not in _KINDS:
        result.errors.append(RowError(number, KIND, f"类型请填写“{KIND_OFF}”或“{KIND_WORK}”（现为“{kind}”）"))
    name = _text(values[NAME])[:32]  # type: ignore[arg-type]
    if len(result.errors) > before or START not in dates:
        return None
    start = dates[START]
    end = dates.get(END, start)
    if end < start:
        result.errors.append(RowError(number, END, "结束日期不能早于开始日期"))
        return None
    if (end - start).days >= MAX_SPAN_DAYS:
        result.errors.append(RowError(number, END, f"一行最多 {MAX_SPAN_DAYS} 天"))
        return None
    return HolidayRow(row_number=number, start=start, end=end, is_workday=_KINDS[kind], name=name)


def holiday_template(*, year: int) -> bytes:
    """The template: the four columns, two example lines of `year` to overwrite, and how to fill it in."""
    book = Workbook()
    sheet = book.active
    assert isinstance(sheet, Worksheet)  # a new workbook's one sheet
    sheet.title = f"{year}年节假日安排"
    sheet.append(list(HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([dt.date(year, 1, 1), dt.date(year, 1, 1), KIND_OFF, "元旦"])
    sheet.append([dt.date(year, 10, 1), dt.date(year, 10, 7), KIND_OFF, "国庆节"])
    for row in sheet.iter_rows(min_row=2, max_col=2):
        for cell in row:
            cell.number_format = "yyyy-mm-dd"
    for column, width in zip("ABCD", (14, 14, 8, 20), strict=True):
        sheet.column_dimensions[column].width = width
    notes = book.create_sheet("填写说明")
    for line in (
        "按国务院办公厅《关于" + str(year) + "年部分节假日安排的通知》逐行填写，示例行请改成通知中的日期。",
        "开始日期、结束日期：同一年内的日期；只有一天时结束日期可留空。",
        "类型：放假（法定节假日及其连休的周末）或 上班（调休上班的周末）。",
        "名称：例如 春节、春节调休上班。",
        "导入时以本文件为准替换该年已录入的全部安排，并记入审计日志。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
