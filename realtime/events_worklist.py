"""Typed events of the collector's day (issue 16: promises to pay, callbacks, the work queue).

Sent by worklist/actions.py after commit. Must not import models, the ORM or anything of `cases`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from realtime.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class PromiseChanged(Event):
    """A promise to pay was recorded or matched (kept, partly kept, broken): the case page's promise history
    and the collector's work queue follow."""

    type: ClassVar[str] = "promise.changed"
    promise_id: int
    case_id: int
    status: str  # PromiseStatus value
    status_label: str
    text: str


@register
@dataclass(frozen=True, kw_only=True)
class WorkQueueChanged(Event):
    """Something that puts a case in or takes it out of the collector's work queue happened (a call, a visit,
    a repayment, a retention, a return, a promise or a callback): the 今日工作 page reloads its list."""

    type: ClassVar[str] = "workqueue.changed"
    case_id: int


@register
@dataclass(frozen=True, kw_only=True)
class CallbackDue(Event):
    """An agreed callback's time came: a live reminder that opens the case. Stored."""

    type: ClassVar[str] = "callback.due"
    callback_id: int
    case_id: int
    case_no: str
    debtor_name: str
    due_at: str  # ISO-8601 UTC
    phone: str
    note: str
    url: str
