"""Reads of monthly targets (issue 18 item 2). Must not import views or actions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def month_target_total(*, month: dt.date) -> Decimal | None:
    """The agency's repayment target of `month` (the sum of the collectors' targets), None when none is set."""
    return None
