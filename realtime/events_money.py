"""Typed events of the money area (issue 6: repayments, returns and retentions), registered in the registry.

Sent by cases/actions/repayments.py and cases/actions/returns.py after commit.
Must not import models, the ORM or anything of `cases`: events carry ids and primitives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from realtime.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class CaseBalanceChanged(Event):
    """A repayment or its reversal moved a case's repaid total and balance (amounts as exact decimal strings)."""

    type: ClassVar[str] = "case.balance_changed"
    case_id: int
    repaid_amount: str
    balance: str
    status: str  # CaseStatus value
    status_label: str
    text: str  # the Chinese line a toast shows


@register
@dataclass(frozen=True, kw_only=True)
class RetentionChanged(Event):
    """A retention request was made (→ the owner clerk) or decided (→ the collector who asked). Stored."""

    type: ClassVar[str] = "retention.changed"
    request_id: int
    case_id: int
    status: str  # RetentionStatus value
    text: str  # the Chinese line a toast shows
    url: str = ""
