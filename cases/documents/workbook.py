"""The work-records workbook (工作记录.xlsx) of a case's full download. Pure: no queries.

Written with openpyxl's write_only mode into a file object. Cells that a spreadsheet would read as a
formula (text starting with = + - @, and tab/CR tricks) are neutralised with a leading apostrophe-like
quote character, since the text comes from users (PIPL rule: exports carry no formulas from user input).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cases.selectors.work import CaseBundle

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="EEF1F5")
_WRAP = Alignment(wrap_text=True, vertical="top")


def safe_cell(value: object) -> object:
    """Text that could be read as a formula gets a leading apostrophe (shown as text by Excel/WPS)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)  # already local time; Excel has no time zones
    return value


def _sheet(wb: Workbook, title: str, headers: list[str], widths: list[int],
           rows: list[list[object]]) -> WriteOnlyWorksheet:
    ws: WriteOnlyWorksheet = wb.create_sheet(title)
    for i, width in enumerate(widths):
        # Worksheet._setup gives a write-only sheet its column_dimensions; types-openpyxl leaves them out.
        ws.column_dimensions[chr(ord("A") + i)].width = width  # type: ignore[attr-defined]
    ws.freeze_panes = "A2"
    header = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        header.append(cell)
    ws.append(header)
    for row in rows:
        cells = []
        for value in row:
            # openpyxl writes Decimal, date, time and bool cells too; types-openpyxl lists only str/float/datetime.
            cell = WriteOnlyCell(ws, value=safe_cell(value))  # type: ignore[arg-type]
            if isinstance(value, str) and ("\n" in value or len(value) > 30):
                cell.alignment = _WRAP
            elif isinstance(value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            cells.append(cell)
        ws.append(cells)
    return ws


def write_work_records(bundle: CaseBundle, out: IO[bytes]) -> None:
    case = bundle.case
    wb = Workbook(write_only=True)
    _sheet(wb, "案件信息", ["项目", "内容"], [14, 60], [
        ["案件编号", case.case_no], ["客户姓名", case.debtor_name],
        ["证件号码", bundle.mask.id_number(case.id_number)], ["卡号", bundle.mask.card_no(case.card_no)],
        ["手机号码", bundle.mask.phone(case.mobile)], ["银行", case.bank.name],
        ["批次", case.batch.batch_no], ["委案金额", case.entrusted_amount], ["已还金额", case.repaid_amount],
        ["余额", case.balance], ["委案日期", case.entrust_date], ["退案日期", case.return_date],
        ["状态", case.get_status_display()],
        ["催收业务员", case.collector.display_name if case.collector else ""],
    ])
    _sheet(wb, "电话记录", ["时间", "方向", "对象", "号码", "结果", "承诺日期", "承诺金额", "时长（秒）", "来源",
                          "业务员", "备注", "录音文件"],
           [17, 6, 8, 15, 10, 11, 12, 9, 9, 10, 40, 36],
           [[c.started_at, c.direction, c.relation, c.number, c.result, c.promise_date, c.promise_amount,
             c.duration_s, c.source, c.collector, c.note, c.recording] for c in bundle.calls])
    _sheet(wb, "外访记录", ["外访日期", "外访人员", "录入人", "地址", "见到何人", "结果", "承诺日期", "承诺金额",
                          "情况说明", "文件"],
           [11, 10, 10, 30, 10, 12, 11, 12, 40, 50],
           [[v.visited_on, v.collector, v.entered_by, v.address, v.met_person, v.result, v.promise_date,
             v.promise_amount, v.note, v.files] for v in bundle.visits])
    _sheet(wb, "时间线", ["时间", "类型", "内容", "操作人"], [17, 12, 80, 10],
           [[e.created_at, e.type, e.summary, e.actor] for e in bundle.events])
    wb.save(out)
