"""Exports (C12 report tables, M4): spreadsheets written with openpyxl's write-only mode, every cell through
cases.documents.workbook.safe_cell (formula neutralisation), every export audited.
Must not import views or consumers.
"""

from __future__ import annotations

import io
from dataclasses import asdict
from typing import IO

from openpyxl import Workbook

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.documents.workbook import safe_cell
from cases.enums import CaseStatus, ProductType
from cases.selectors.cases import CaseFilters, case_list
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


CASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_no", "案件编号"), ("debtor_name", "客户姓名"), ("id_number", "证件号码"), ("bank__name", "银行"),
    ("batch__batch_no", "批次"), ("product_type", "产品类型"), ("card_no", "卡号"), ("mobile", "手机号码"),
    ("entrusted_amount", "委案金额"), ("repaid_amount", "已还金额"), ("balance", "余额"),
    ("commission_rate", "佣金比例"), ("entrust_date", "委案日期"), ("return_date", "退案日期"),
    ("status", "状态"), ("collector__full_name", "催收业务员"), ("owner_clerk__full_name", "负责内勤"),
    ("region", "地区"), ("home_address", "家庭地址"), ("employer", "单位名称"), ("note", "备注"),
)


def cases_export(*, user: User, filters: CaseFilters, out: IO[bytes]) -> int:
    """M4: every case `user` sees matching `filters` as one .xlsx written into `out`; returns the row count.

    Rows are read in chunks from a server-side cursor and written by openpyxl's write-only mode (which spools
    to a temporary file), so memory stays flat whatever the number of cases. Audited.
    Emits: nothing. Raises: nothing.
    """
    labels = {"status": dict(CaseStatus.choices), "product_type": dict(ProductType.choices)}
    names = [name for name, _ in CASE_COLUMNS]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title="委案")
    ws.append([label for _, label in CASE_COLUMNS])
    count = 0
    rows = case_list(user=user, filters=filters).values_list(*names)
    for values in rows.iterator(chunk_size=2000):
        line = []
        for name, value in zip(names, values, strict=True):
            if name in labels:
                value = labels[name].get(value, value)
            line.append(safe_cell("" if value is None else value))
        ws.append(line)
        count += 1
    wb.save(out)
    audit_record(actor=user, action=AuditAction.EXPORT, object_type="cases", summary=f"导出委案 {count} 件"[:500],
                 detail={"rows": count, "filters": {k: str(v) for k, v in asdict(filters).items() if v}})
    return count
