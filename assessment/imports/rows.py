"""Typed applicant data shared by the intake form and the Excel intake. Pure data, no ORM."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from cases.imports.rows import RowError


@dataclass(frozen=True)
class ApplicantInput:
    name: str
    id_number: str
    phone: str
    birth_date: dt.date
    sex: str
    monthly_income: Decimal
    loan_amount: Decimal
    loan_term_months: int
    employer: str = ""
    employment_years: Decimal = Decimal("0")
    total_debt: Decimal = Decimal("0.00")
    monthly_debt_payment: Decimal = Decimal("0.00")
    purpose: str = ""
    collateral: str = ""
    overdue_records: int = 0
    row_number: int = 0  # the Excel row, for imported applicants


@dataclass
class IntakeResult:
    rows: list[ApplicantInput] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)
