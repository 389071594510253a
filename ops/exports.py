"""The audit log as an .xlsx workbook (openpyxl write_only), built row by row into a temporary file.

Cells that a spreadsheet would read as a formula (=, +, -, @ and the tab/CR tricks) are neutralised with a
leading apostrophe: an audit summary typed by a user must never execute in the reader's Excel.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from typing import IO

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from accounts.models import AuditEntry

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 1_000_000  # one sheet holds 1,048,576 rows
HEADERS = ["时间", "操作人", "操作", "对象类型", "对象编号", "摘要", "详情", "IP 地址", "浏览器"]


def neutralise(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def audit_workbook(entries: Iterable[AuditEntry]) -> tuple[IO[bytes], int]:
    """Write `entries` to a temporary .xlsx file; returns the file (at position 0) and the row count."""
    import json

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审计日志")
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["F"].width = 60
    ws.append(HEADERS)
    count = 0
    for e in entries:
        if count >= MAX_ROWS:
            ws.append(["（超过 100 万行，已截断；请缩小日期范围后分批导出）"])
            break
        detail = json.dumps(e.detail, ensure_ascii=False) if e.detail else ""
        row = [timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"), e.actor_name,
               e.get_action_display(), e.object_type, e.object_id, e.summary, detail[:32000], e.ip_address or "",
               e.user_agent]
        ws.append([WriteOnlyCell(ws, value=neutralise(v)) for v in row])
        count += 1
    out = tempfile.TemporaryFile()  # noqa: SIM115 (returned open; FileResponse closes it)
    wb.save(out)
    out.seek(0)
    return out, count
