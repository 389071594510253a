"""Read a bank's repayment file through a mapping into the rows the repayment reconciliation consumes.

The mapping sits in front of the standard repayment parser: each bank row is laid out under the standard
repayment headers (value rules applied, rows at their sheet row numbers) and read by
`cases.imports.repayments.parse_repayment_rows`, so matching and recording see the very same `RepaymentRow`s;
the errors are then renamed to the bank's columns. Pure: no ORM.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from cases.imports.excel import CellValue
from cases.imports.repayments import RepaymentParseResult, parse_repayment_rows
from cases.imports.rows import RowError
from mappings.imports import rules
from mappings.imports.fields import DATE, MONEY, REPAYMENTS, targets_for
from mappings.imports.headers import HeaderInfo
from mappings.imports.reading import OpenedSheet
from mappings.imports.spec import MappingSpec

FIELDS = ("案件编号", "卡号", "还款金额", "还款日期", "流水号", "备注")


def parse_mapped_repayments(sheet: OpenedSheet, header: HeaderInfo, spec: MappingSpec, *,
                            today: dt.date | None = None, limit: int | None = None) -> RepaymentParseResult:
    """The repayment rows of a bank's file read through `spec` (the first `limit` data rows only, for a preview)."""
    targets = targets_for(REPAYMENTS)
    positions = header.positions()
    labels: dict[str, str] = {}
    getters: list[Callable[[list[CellValue]], CellValue]] = []
    for key in FIELDS:
        target = targets[key]
        columns = [c for c in spec.sources(key) if c.header in positions]
        if key in spec.constants:
            labels[key] = f"{key}（固定值）"
            getters.append(_constant(spec.constants[key]))
        elif not columns:
            labels[key] = key
            getters.append(_constant(""))
        else:
            labels[key] = "、".join(c.header for c in columns)
            column = columns[0]
            rule: Callable[[CellValue], CellValue] | None = None
            if target.kind == MONEY:
                rule = rules.money(column.unit)
            elif target.kind == DATE:
                rule = rules.date(column.date_order)
            getters.append(_cell(positions[column.header], rule))

    def laid_out() -> Iterator[list[CellValue]]:
        rows = sheet.rows()
        # Blank rows up to the header keep the sheet's row numbers; then the standard header; then the data.
        for _ in range(header.row + 1):
            next(rows, None)
        yield from ([] for _ in range(header.row))
        yield list(FIELDS)
        for count, cells in enumerate(rows):
            if limit is not None and count >= limit:
                return
            yield [get(cells) for get in getters]

    result = parse_repayment_rows(laid_out(), today=today)
    result.errors = [RowError(e.row_number, labels.get(e.column, e.column), e.message) for e in result.errors]
    return result


def _constant(value: str) -> Callable[[list[CellValue]], CellValue]:
    return lambda cells: value


def _cell(pos: int, rule: Callable[[CellValue], CellValue] | None) -> Callable[[list[CellValue]], CellValue]:
    if rule is None:
        return lambda cells: cells[pos] if pos < len(cells) else ""
    return lambda cells: rule(cells[pos]) if pos < len(cells) else ""
