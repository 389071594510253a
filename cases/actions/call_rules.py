"""Calling rules per bank (拨打规则, issue 15): a manager sets a bank's calling window and daily caps inside the
national limits; every change audited with before and after. The dialer's guard reads them before each originate
(cases.selectors.dialer.compliance_facts), so a change applies to the next call.

Must not import views, consumers or the dialer.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.exceptions import CallRulesError
from cases.models import Bank, CallPolicy
from cases.models.compliance import (
    DEFAULT_MAX_ANSWERED_PER_DEBTOR,
    DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE,
    DEFAULT_MAX_UNANSWERED_PER_NUMBER,
    DEFAULT_THIRD_PARTY_AFTER_UNANSWERED,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    LIMIT_MAX_ANSWERED_PER_DEBTOR,
    LIMIT_MAX_THIRD_PARTY_ANSWERED_PER_CASE,
    LIMIT_MAX_UNANSWERED_PER_NUMBER,
    LIMIT_THIRD_PARTY_AFTER_UNANSWERED,
    WINDOW_EARLIEST,
    WINDOW_LATEST,
)
from cases.workdays import WorkCalendar

# How far ahead a callback (约定回电, issue 16) may be agreed.
CALLBACK_HORIZON = dt.timedelta(days=30)


def _describe(start: dt.time, end: dt.time, answered: int, unanswered: int, after: int, third: int) -> str:
    return (f"{start:%H:%M}–{end:%H:%M}，每名债务人每日接通 ≤{answered} 次，每个号码每日未接通 ≤{unanswered} 次，"
            f"本人号码未接通 {after} 次后可联系第三方，第三方每案每日接通 ≤{third} 次")


def call_rules_check(*, window_start: dt.time, window_end: dt.time, max_answered_per_debtor: int,
                     max_unanswered_per_number: int,
                     third_party_after_unanswered: int = DEFAULT_THIRD_PARTY_AFTER_UNANSWERED,
                     max_third_party_answered_per_case: int = DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE) -> None:
    """Raises CallRulesError (Chinese) when the rules leave the national limits."""
    if window_start < WINDOW_EARLIEST or window_end > WINDOW_LATEST:
        raise CallRulesError(f"拨打时段不得早于 {WINDOW_EARLIEST:%H:%M} 或晚于 {WINDOW_LATEST:%H:%M}")
    if window_start >= window_end:
        raise CallRulesError("拨打时段的开始必须早于结束")
    if not 1 <= max_answered_per_debtor <= LIMIT_MAX_ANSWERED_PER_DEBTOR:
        raise CallRulesError(f"每名债务人每日接通次数须在 1–{LIMIT_MAX_ANSWERED_PER_DEBTOR} 次之间")
    if not 1 <= max_unanswered_per_number <= LIMIT_MAX_UNANSWERED_PER_NUMBER:
        raise CallRulesError(f"每个号码每日未接通次数须在 1–{LIMIT_MAX_UNANSWERED_PER_NUMBER} 次之间")
    if not 0 <= third_party_after_unanswered <= LIMIT_THIRD_PARTY_AFTER_UNANSWERED:
        raise CallRulesError(f"联系第三方前本人号码未接通次数须在 0–{LIMIT_THIRD_PARTY_AFTER_UNANSWERED} 次之间")
    if not 0 <= max_third_party_answered_per_case <= LIMIT_MAX_THIRD_PARTY_ANSWERED_PER_CASE:
        raise CallRulesError(f"每个委案每日第三方接通次数须在 0–{LIMIT_MAX_THIRD_PARTY_ANSWERED_PER_CASE} 次之间")


@transaction.atomic
def call_policy_set(*, by: User, bank: Bank, window_start: dt.time, window_end: dt.time,
                    max_answered_per_debtor: int, max_unanswered_per_number: int,
                    third_party_after_unanswered: int | None = None,
                    max_third_party_answered_per_case: int | None = None,
                    request: HttpRequest | None = None) -> CallPolicy:
    """Set `bank`'s calling window and daily caps (in force for the next call).

    Emits: nothing.
    Raises: CallRulesError (not a manager, outside the national limits).
    """
    if not (by.is_active and by.is_manager):
        raise CallRulesError("只有管理人员可以修改拨打规则")
    policy = CallPolicy.objects.select_for_update().filter(bank=bank).first()
    # Not given: the bank's current value (or the default), so a caller setting only the window keeps them.
    if third_party_after_unanswered is None:
        third_party_after_unanswered = (policy.third_party_after_unanswered if policy
                                        else DEFAULT_THIRD_PARTY_AFTER_UNANSWERED)
    if max_third_party_answered_per_case is None:
        max_third_party_answered_per_case = (policy.max_third_party_answered_per_case if policy
                                             else DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE)
    call_rules_check(window_start=window_start, window_end=window_end,
                     max_answered_per_debtor=max_answered_per_debtor,
                     max_unanswered_per_number=max_unanswered_per_number,
                     third_party_after_unanswered=third_party_after_unanswered,
                     max_third_party_answered_per_case=max_third_party_answered_per_case)
    before = (_describe(policy.window_start, policy.window_end, policy.max_answered_per_debtor,
                        policy.max_unanswered_per_number, policy.third_party_after_unanswered,
                        policy.max_third_party_answered_per_case) if policy else
              "默认：" + _describe(DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_MAX_ANSWERED_PER_DEBTOR,
                                 DEFAULT_MAX_UNANSWERED_PER_NUMBER, DEFAULT_THIRD_PARTY_AFTER_UNANSWERED,
                                 DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE))
    policy = policy or CallPolicy(bank=bank)
    policy.window_start, policy.window_end = window_start, window_end
    policy.max_answered_per_debtor = max_answered_per_debtor
    policy.max_unanswered_per_number = max_unanswered_per_number
    policy.third_party_after_unanswered = third_party_after_unanswered
    policy.max_third_party_answered_per_case = max_third_party_answered_per_case
    policy.save()
    after = _describe(window_start, window_end, max_answered_per_debtor, max_unanswered_per_number,
                      third_party_after_unanswered, max_third_party_answered_per_case)
    if after != before:
        audit_record(actor=by, action=AuditAction.CALL_RULES, summary=f"{bank.name} 拨打规则改为 {after}",
                     object_type="call_policy", object_id=bank.pk, detail={"before": before, "after": after},
                     request=request)
    return policy


def calling_window(bank_id: int) -> tuple[dt.time, dt.time, int]:
    """The bank's calling window and its daily cap of unanswered attempts (the defaults without a policy)."""
    policy = CallPolicy.objects.filter(bank_id=bank_id).first()
    if policy is None:
        return DEFAULT_WINDOW_START, DEFAULT_WINDOW_END, DEFAULT_MAX_UNANSWERED_PER_NUMBER
    return policy.window_start, policy.window_end, policy.max_unanswered_per_number


def callback_refusal(*, bank_id: int, due_at: dt.datetime, now: dt.datetime) -> str:
    """Why a callback at `due_at` cannot be agreed ("" when it can): in the future, within 30 days, on a working
    day and inside the bank's calling window. One rule for the case page's callback form and the call outcome
    form's callback time."""
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
