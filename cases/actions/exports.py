"""Exports (C12 report tables, M4): spreadsheets written with openpyxl's write-only mode, every cell through
cases.documents.workbook.safe_cell (formula neutralisation), every export audited.
Must not import views or consumers.
"""

from __future__ import annotations

import io

from openpyxl import Workbook

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.documents.workbook import safe_cell
from cases.selectors.reports import ReportTable


def report_export(*, table: ReportTable, by: User, detail: dict[str, str]) -> bytes:
    """The report table as .xlsx (header, rows, total), audited.

    Emits: nothing. Raises: nothing.
    """
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.title[:31])
    ws.append([safe_cell(h) for h in table.headers])
    for row in table.rows:
        ws.append([safe_cell(v) for v in row])
    if table.total is not None:
        ws.append([safe_cell(v) for v in table.total])
    out = io.BytesIO()
    wb.save(out)
    audit_record(actor=by, action=AuditAction.EXPORT, object_type="report", summary=f"导出报表《{table.title}》"[:500],
                 detail={**detail, "rows": len(table.rows)})
    return out.getvalue()
