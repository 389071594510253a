"""M3's export: one collector's work as an .xlsx (openpyxl write-only); user text is neutralised against formulas
(cases.documents.workbook.safe_cell). Pure: rows in, bytes out to `out`."""

from __future__ import annotations

from decimal import Decimal
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from cases.documents.workbook import safe_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_WIDTHS = (17, 8, 16, 10, 60, 14, 10)


def write_activity_workbook(out: IO[bytes], *, title: str, headers: list[str], rows: list[list[object]]) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("工作记录")
    for i, width in enumerate(_WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A3"
    ws.append([title])
    head = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = Font(bold=True)
        head.append(cell)
    ws.append(head)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=safe_cell(value))
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            cells.append(cell)
        ws.append(cells)
    wb.save(out)
