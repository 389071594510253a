"""Monthly targets from an .xlsx (issue 18 item 2): header names, not positions; pure (no ORM).

Columns: 对象类型 (业务员 / 部门 / 分公司), 名称 (a collector's 账号 or name; a department as 分公司/部门 or its
name; a branch company's name), 回款目标（元）, and optionally 接通目标（次）. The month is chosen on the page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from python_calamine import CalamineError, CalamineWorkbook

from cases.imports.excel import sniff_xlsx

SCOPES = {"业务员": "collector", "部门": "department", "分公司": "branch"}
HEADERS = {"对象类型": "scope", "名称": "name", "回款目标（元）": "repayment", "回款目标": "repayment",
           "接通目标（次）": "contacts", "接通目标": "contacts"}
MAX_ROWS = 5000


@dataclass
class TargetRow:
    row_number: int
    scope: str
    name: str
    repayment_target: Decimal
    contact_target: int | None


@dataclass
class TargetParse:
    rows: list[TargetRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if value is not None else ""


def parse_target_workbook(data: bytes) -> TargetParse:
    result = TargetParse()
    refused = sniff_xlsx(data, max_uncompressed_bytes=50 * 1024 * 1024, max_rows=MAX_ROWS)
    if refused:
        result.errors.append(refused)
        return result
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0).to_python()
    except (CalamineError, ValueError, IndexError) as exc:
        result.errors.append(f"无法读取工作簿：{exc}")
        return result
    if not sheet:
        result.errors.append("工作簿是空的")
        return result
    columns = {HEADERS[_text(h)]: i for i, h in enumerate(sheet[0]) if _text(h) in HEADERS}
    missing = [label for key, label in (("scope", "对象类型"), ("name", "名称"), ("repayment", "回款目标（元）"))
               if key not in columns]
    if missing:
        result.errors.append(f"缺少列：{'、'.join(missing)}（第 1 行应为表头）")
        return result
    for number, raw in enumerate(sheet[1:], start=2):
        cells = {key: _text(raw[i]) if i < len(raw) else "" for key, i in columns.items()}
        if not any(cells.values()):
            continue
        scope = SCOPES.get(cells["scope"])
        if scope is None:
            result.errors.append(f"第 {number} 行：对象类型“{cells['scope']}”应为 业务员、部门 或 分公司")
            continue
        if not cells["name"]:
            result.errors.append(f"第 {number} 行：名称为空")
            continue
        if not cells["repayment"]:
            continue  # the downloaded sheet lists everyone: a blank target is left as it is
        try:
            amount = Decimal(cells["repayment"].replace(",", "")).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            result.errors.append(f"第 {number} 行：回款目标“{cells['repayment']}”不是金额")
            continue
        if amount < 0 or amount >= Decimal("1e14"):
            result.errors.append(f"第 {number} 行：回款目标应在 0 到 99,999,999,999,999.99 元之间")
            continue
        contacts: int | None = None
        if cells.get("contacts"):
            if not cells["contacts"].isdigit():
                result.errors.append(f"第 {number} 行：接通目标“{cells['contacts']}”应为不小于 0 的整数")
                continue
            contacts = int(cells["contacts"])
        result.rows.append(TargetRow(row_number=number, scope=scope, name=cells["name"], repayment_target=amount,
                                     contact_target=contacts))
    if not result.rows and not result.errors:
        result.errors.append("文件中没有目标数据")
    return result
