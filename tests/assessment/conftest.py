from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from assessment.actions.applicants import applicant_create
from assessment.actions.scorecards import scorecard_create, scorecard_version_publish
from assessment.identity import birth_date_of, sex_of
from assessment.imports.rows import ApplicantInput
from tests import factories as f


@pytest.fixture
def live_card(db, bank, manager):
    """The bank's scorecard, version 1 (the default characteristics) live_card."""
    return scorecard_version_publish(version=scorecard_create(bank=bank, name="个贷评分卡", by=manager), by=manager)


@pytest.fixture
def make_applicant(db, bank, manager):
    def _make(*, id_number: str | None = None, by=None, applicant_bank=None, **overrides):
        number = id_number or f.make_id_number(777, dt.date(1988, 3, 9))
        values = {"name": "赵申请", "phone": "13912345678", "monthly_income": Decimal("10000"),
                  "monthly_debt_payment": Decimal("500"), "loan_amount": Decimal("36000"), "loan_term_months": 36,
                  "employment_years": Decimal("5"), "employer": "沈阳某公司"}
        values.update(overrides)
        data = ApplicantInput(id_number=number, birth_date=birth_date_of(number), sex=sex_of(number), **values)
        return applicant_create(bank=applicant_bank or bank, data=data, by=by or manager)

    return _make
