"""Typed results of parsing an import file: case rows, their contacts and row errors.

Pure data: no ORM, no Django settings. `cases.actions.batches` persists these.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class RowError:
    """One problem of the file. `row_number` is the Excel row (1-based); 0 means the file as a whole."""

    row_number: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row_number == 0:
            return f"{self.column}：{self.message}" if self.column else self.message
        where = f"第 {self.row_number} 行"
        return f"{where}“{self.column}”：{self.message}" if self.column else f"{where}：{self.message}"


@dataclass(frozen=True, slots=True)
class ContactRow:
    """A phone number to store as a CaseContact. `relation` is 本人 for the debtor's own numbers."""

    name: str
    relation: str
    phone: str


@dataclass(slots=True)
class CaseRow:
    """One valid data row of the standard template, values already normalised."""

    row_number: int
    batch_no: str
    case_no: str
    debtor_name: str
    id_number: str
    entrusted_amount: Decimal
    commission_rate: Decimal  # a fraction with 6 decimals: 3.5% → 0.035000
    entrust_date: dt.date
    return_date: dt.date
    product_type: str = "other"  # a cases.enums.ProductType value
    card_no: str = ""
    mobile: str = ""
    home_address: str = ""
    employer: str = ""
    work_address: str = ""
    region: str = ""
    note: str = ""
    principal: Decimal | None = None
    interest: Decimal | None = None
    fees: Decimal | None = None
    overdue_days: int | None = None
    contacts: list[ContactRow] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ParseResult:
    """Everything `parse_case_workbook` found. Nothing may be imported unless `errors` is empty."""

    rows: list[CaseRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    batch_no: str = ""
    sheet_name: str = ""
    headers: list[str] = field(default_factory=list)
    extra_headers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)

    @property
    def total_amount(self) -> Decimal:
        return sum((row.entrusted_amount for row in self.rows), Decimal("0.00"))
