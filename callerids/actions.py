"""The caller-ID pool's writes (issue 17): taking a number for a call (its daily cap counted at once), giving an
unused attempt back, counting answered calls and resting a number whose answer rate collapsed, and the admin's
add / rest / reactivate, each audited.

Sits above `cases` (reaches it through its models and actions only); the dialer reaches this through
dialer/domain.py. Must not import views, consumers or the dialer.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from callerids import choice
from callerids.exceptions import CallerNumberError, CallerNumbersExhaustedError
from callerids.models import FLAG_MIN_ATTEMPTS, FLAG_RATIO, CallerNumber, CallerNumberDay, CallerNumberState
from callerids.policies import can_manage_caller_numbers
from callerids.selectors import RECENT_DAYS, caller_number_for, local_day
from cases.models import Bank
from cases.selectors.dialer import dial_key

SYSTEM = "系统"


def _candidates(rows: list[CallerNumber], today: dt.date) -> list[choice.Candidate]:
    since = today - dt.timedelta(days=RECENT_DAYS - 1)
    days = CallerNumberDay.objects.filter(caller_number__in=rows, day__gte=since).values_list(
        "caller_number_id", "day", "attempts", "answered")
    today_attempts: dict[int, int] = {}
    recent: dict[int, tuple[int, int]] = {}
    for number_id, day, attempts, answered in days:
        if day == today:
            today_attempts[number_id] = attempts
        a, b = recent.get(number_id, (0, 0))
        recent[number_id] = (a + attempts, b + answered)
    return [choice.Candidate(number_id=r.pk, number=r.number, daily_cap=r.daily_cap,
                             attempts_today=today_attempts.get(r.pk, 0),
                             recent_attempts=recent.get(r.pk, (0, 0))[0], recent_answered=recent.get(r.pk, (0, 0))[1])
            for r in rows]


@transaction.atomic
def caller_number_take(*, bank_id: int | None, trunk: str, now: dt.datetime) -> str:
    """The number to show on the next call of a case of `bank_id` on `trunk`, its attempt counted at once.

    A bank with active numbers of its own uses only those; other banks use the trunk's shared numbers (no bank).
    Returns "" when the trunk has no pool at all (the call goes out with the trunk's own number, as before).
    Emits: nothing.
    Raises: CallerNumbersExhaustedError (every usable number at its daily cap, or none usable).
    """
    pool = CallerNumber.objects.filter(trunk=trunk)
    if not pool.exists():
        return ""
    active = pool.filter(state=CallerNumberState.ACTIVE)
    own = active.filter(bank_id=bank_id) if bank_id else active.none()
    # Locked in id order, so concurrent takes on one pool queue here and the caps hold exactly.
    rows = list((own if own.exists() else active.filter(bank__isnull=True)).select_for_update().order_by("pk"))
    if not rows:
        raise CallerNumbersExhaustedError("外显号码池没有可用的号码（都在休息或疑似被标记），请联系系统管理员")
    today = local_day(now)
    chosen = choice.choose(_candidates(rows, today))
    if chosen is None:
        raise CallerNumbersExhaustedError(f"外显号码今天的外呼次数已用完（{len(rows)} 个号码都已达到每日上限），"
                                          "请明天再拨，或请系统管理员增加号码")
    day, _ = CallerNumberDay.objects.get_or_create(caller_number_id=chosen.number_id, day=today)
    CallerNumberDay.objects.filter(pk=day.pk).update(attempts=F("attempts") + 1)
    return chosen.number


def caller_number_release(*, number: str, now: dt.datetime) -> None:
    """Give back an attempt taken for a call whose customer leg was never dialled (the collector did not answer,
    their phone was offline, a rule refused the call after the take). Emits/Raises: nothing."""
    (CallerNumberDay.objects.filter(caller_number__number=number, day=local_day(now), attempts__gt=0)
     .update(attempts=F("attempts") - 1))


@transaction.atomic
def caller_number_call_ended(*, number: str, answered: bool, now: dt.datetime) -> CallerNumber | None:
    """Count an answered call on the number that showed on it, then check the number's health (it may be rested).

    Emits: nothing. Raises: nothing (an unknown number: None).
    """
    row = CallerNumber.objects.filter(number=number).first()
    if row is None:
        return None
    if answered:
        day, _ = CallerNumberDay.objects.get_or_create(caller_number=row, day=local_day(now))
        CallerNumberDay.objects.filter(pk=day.pk).update(answered=F("answered") + 1)
    caller_number_check_health(caller_number=row, now=now)
    return row


@transaction.atomic
def caller_number_check_health(*, caller_number: CallerNumber, now: dt.datetime) -> bool:
    """Rest the number (疑似被标记) when today its answer rate fell below FLAG_RATIO of the rest of its trunk's pool.

    Returns True when it was rested now. Audited (actor 系统). Emits: nothing. Raises: nothing.
    """
    row = CallerNumber.objects.select_for_update().get(pk=caller_number.pk)
    if row.state != CallerNumberState.ACTIVE:
        return False
    today = local_day(now)
    mine = CallerNumberDay.objects.filter(caller_number=row, day=today).first()
    if mine is None or mine.attempts < FLAG_MIN_ATTEMPTS:
        return False
    others = (CallerNumberDay.objects.filter(day=today, caller_number__trunk=row.trunk).exclude(caller_number=row)
              .aggregate(attempts=Sum("attempts"), answered=Sum("answered")))
    other_attempts, other_answered = others["attempts"] or 0, others["answered"] or 0
    if other_attempts < FLAG_MIN_ATTEMPTS or other_answered == 0:
        return False
    rate, pool = mine.answered / mine.attempts, other_answered / other_attempts
    if rate >= FLAG_RATIO * pool:
        return False
    row.state = CallerNumberState.FLAGGED
    row.state_reason = (f"今日接通率 {rate:.0%}（{mine.answered}/{mine.attempts}），号码池其他号码 {pool:.0%}，"
                        f"不到其 {FLAG_RATIO:.0%}：疑似被标记为骚扰/催收，已自动休息")[:200]
    row.state_changed_at = now
    row.save(update_fields=["state", "state_reason", "state_changed_at"])
    audit_record(actor=None, actor_name=SYSTEM, action=AuditAction.CALLER_NUMBER,
                 summary=f"外显号码 {row.number} 疑似被标记，已自动休息：{row.state_reason}"[:480],
                 object_type="caller_number", object_id=row.pk,
                 detail={"number": row.number, "state": row.state, "rate": round(rate, 4), "pool_rate": round(pool, 4),
                         "attempts": mine.attempts, "answered": mine.answered})
    return True


def _require_admin(by: User) -> None:
    if not can_manage_caller_numbers(by):
        raise CallerNumberError("只有系统管理员可以管理外显号码")


@transaction.atomic
def caller_number_add(*, by: User, number: str, trunk: str, bank: Bank | None, daily_cap: int, note: str = "",
                      request: HttpRequest | None = None) -> CallerNumber:
    """Add a number to the pool (in use at once). Audited.

    Emits: nothing. Raises: CallerNumberError (not an admin, bad number or cap, already in the pool).
    """
    _require_admin(by)
    key = dial_key(number)
    if not key or not 5 <= len(key) <= 20:
        raise CallerNumberError("号码不正确，请填写运营商分配的号码（数字）")
    if not 1 <= daily_cap <= 10000:
        raise CallerNumberError("每日外呼上限须在 1–10000 次之间")
    trunk = trunk.strip() or "trunk"
    if caller_number_for(key) is not None:
        raise CallerNumberError(f"号码 {key} 已在号码池中")
    row = CallerNumber.objects.create(number=key, trunk=trunk, bank=bank, daily_cap=daily_cap, note=note.strip()[:200],
                                      created_by=by, state_changed_at=timezone.now())
    scope = f"{bank.name} 专用" if bank is not None else "公共"
    audit_record(actor=by, action=AuditAction.CALLER_NUMBER,
                 summary=f"添加外显号码 {key}（中继 {trunk}，{scope}，每日上限 {daily_cap} 次）",
                 object_type="caller_number", object_id=row.pk,
                 detail={"number": key, "trunk": trunk, "bank_id": bank.pk if bank else None, "daily_cap": daily_cap},
                 request=request)
    return row


@transaction.atomic
def caller_number_rest(*, by: User, caller_number: CallerNumber, reason: str,
                       request: HttpRequest | None = None) -> CallerNumber:
    """Take a number out of rotation (休息) with a reason. Audited.

    Emits: nothing. Raises: CallerNumberError (not an admin, no reason, already resting).
    """
    _require_admin(by)
    reason = reason.strip()
    if not reason:
        raise CallerNumberError("请填写休息原因")
    row = CallerNumber.objects.select_for_update().get(pk=caller_number.pk)
    if row.state != CallerNumberState.ACTIVE:
        raise CallerNumberError(f"号码 {row.number} 已经不在使用中（{row.get_state_display()}）")
    row.state, row.state_reason, row.state_changed_at = CallerNumberState.RESTED, reason[:200], timezone.now()
    row.save(update_fields=["state", "state_reason", "state_changed_at"])
    audit_record(actor=by, action=AuditAction.CALLER_NUMBER, summary=f"外显号码 {row.number} 休息：{row.state_reason}",
                 object_type="caller_number", object_id=row.pk,
                 detail={"number": row.number, "state": row.state, "reason": row.state_reason}, request=request)
    return row


@transaction.atomic
def caller_number_reactivate(*, by: User, caller_number: CallerNumber, request: HttpRequest | None = None
                             ) -> CallerNumber:
    """Put a resting or flagged number back into rotation. Audited.

    Emits: nothing. Raises: CallerNumberError (not an admin, already in use).
    """
    _require_admin(by)
    row = CallerNumber.objects.select_for_update().get(pk=caller_number.pk)
    if row.state == CallerNumberState.ACTIVE:
        raise CallerNumberError(f"号码 {row.number} 已在使用中")
    before = row.get_state_display()
    row.state, row.state_reason, row.state_changed_at = CallerNumberState.ACTIVE, "", timezone.now()
    row.save(update_fields=["state", "state_reason", "state_changed_at"])
    audit_record(actor=by, action=AuditAction.CALLER_NUMBER, summary=f"外显号码 {row.number} 恢复使用（原为{before}）",
                 object_type="caller_number", object_id=row.pk,
                 detail={"number": row.number, "state": row.state, "before": before}, request=request)
    return row
