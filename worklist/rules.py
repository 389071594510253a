"""Rules of the collector's day that read settings but write nothing: when a callback may be agreed, and when an
unanswered case may be rung again (the calling window and the daily cap, issue 5's compliance rules)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from cases.models import CallPolicy
from cases.models.compliance import DEFAULT_MAX_UNANSWERED_PER_NUMBER, DEFAULT_WINDOW_END, DEFAULT_WINDOW_START
from cases.workdays import WorkCalendar

# How far ahead a callback may be agreed.
CALLBACK_HORIZON = dt.timedelta(days=30)
# An unanswered case comes back to the queue this long after its last attempt.
RETRY_GAP = dt.timedelta(hours=1)


def calling_window(bank_id: int) -> tuple[dt.time, dt.time, int]:
    """The bank's calling window and its daily cap of unanswered attempts (the defaults without a policy)."""
    policy = CallPolicy.objects.filter(bank_id=bank_id).first()
    if policy is None:
        return DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_MAX_UNANSWERED_PER_NUMBER
    return policy.window_start, policy.window_end, policy.max_unanswered_per_number


def calling_windows(bank_ids: set[int]) -> dict[int, tuple[dt.time, dt.time, int]]:
    """calling_window of several banks in one query."""
    found = {p.bank_id: (p.window_start, p.window_end, p.max_unanswered_per_number)
             for p in CallPolicy.objects.filter(bank_id__in=bank_ids)}
    default = (DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_MAX_UNANSWERED_PER_NUMBER)
    return {bid: found.get(bid, default) for bid in bank_ids}


def callback_refusal(*, bank_id: int, due_at: dt.datetime, now: dt.datetime) -> str:
    """Why a callback at `due_at` cannot be agreed ("" when it can): in the future, within 30 days, on a working
    day and inside the bank's calling window."""
    if due_at <= now:
        return "约定回电时间必须晚于现在"
    if due_at > now + CALLBACK_HORIZON:
        return "约定回电时间不能超过 30 天"
    local = timezone.localtime(due_at)
    calendar = WorkCalendar.load(local.date(), local.date())
    if not calendar.is_workday(local.date()):
        return f"{local:%Y-%m-%d} 不是工作日，请选择工作日"
    start, end, _ = calling_window(bank_id)
    if not start <= local.time() <= end:
        return f"约定回电时间须在允许拨打时段 {start:%H:%M}–{end:%H:%M} 内"
    return ""


def in_window(*, start: dt.time, end: dt.time, now: dt.datetime) -> bool:
    return start <= timezone.localtime(now).time() <= end
