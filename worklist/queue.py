"""今日工作 (issue 16 item 1): which of a collector's cases to work now, why, and in which order.

Reasons a case is in the queue (each from its own source, so an item leaves as soon as its reason goes):

- callback: an agreed callback's time has come (约定回电). Leaves: a call on the case, or cancelled.
- promise_broken: an open 承诺违约 reminder (a promise broken or partly kept). Leaves: a call or visit.
- promise_due: an open promise whose date is today or past, within its grace. Leaves: kept; worked today.
- first_call: an open 首次电话超期 reminder (3 working days without a call). Leaves: a call.
- expiry_3 / expiry_7: the return date is today or ≤ 3 / ≤ 7 days away (not past: a case past its return
  date is the clerk's to return or retain). Leaves: retained, returned; worked today.
- first_visit: an open 首次外访超期 reminder (field collectors). Leaves: a visit.
- new: assigned and not started (未开始). Leaves: the first call or visit.
- retry: the last call today went unanswered and the calling rules allow another. Leaves: answered, the cap
  or the end of the window.

Worked today: a case with a call or visit today leaves the queue for the day, except for a callback that
falls due and for a retry of an unanswered call (when the window, the daily cap of unanswered attempts and a
one-hour gap allow). A returned, settled or re-assigned case leaves at once (only the collector's open cases
are looked at).

The order (ORDER RULE), documented here and tested in tests/worklist/test_queue.py:
1. Callbacks whose time has come, earliest first: an agreed time is a promise to the debtor, so they stay
   on top whatever the weights.
2. Then by the weight of the case's strongest reason, highest first. Weights are per bank
   (BankWorkSettings, 0–100, a manager sets them; defaults: broken promise 90, promise due 80, first call 70,
   ≤3 days 65, first visit 60, ≤7 days 50, new 40, retry 30).
3. Then by points (0–100): balance 1 point per ¥2,500 up to 40 (¥100,000); days to the return date
   30 − days, 0–30 (nearer is more); days since the last call on the case up to 30 (never called: 30).
4. Then by case id (older first), so the order is stable.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import models
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from cases.enums import CONNECTED_CALL_RESULTS, OPEN_STATUSES, CaseStatus, ReminderKind
from cases.models import CallRecord, Case, Reminder, VisitRecord
from worklist import lookups  # noqa: F401  (registers __any)
from worklist.models import BankWorkSettings, Callback, CallbackStatus, Promise, PromiseStatus
from worklist.rules import RETRY_GAP, calling_windows, in_window


class WorkReason(models.TextChoices):
    CALLBACK = "callback", "约定回电"
    PROMISE_BROKEN = "promise_broken", "承诺违约"
    PROMISE_DUE = "promise_due", "承诺到期"
    FIRST_CALL = "first_call", "首次电话超期"
    EXPIRY_3 = "expiry_3", "3天内到期"
    FIRST_VISIT = "first_visit", "首次外访超期"
    EXPIRY_7 = "expiry_7", "7天内到期"
    NEW = "new", "新分配"
    RETRY = "retry", "未接通重拨"


WEIGHT_FIELD: dict[str, str] = {
    WorkReason.CALLBACK: "weight_callback",
    WorkReason.PROMISE_BROKEN: "weight_promise_broken",
    WorkReason.PROMISE_DUE: "weight_promise_due",
    WorkReason.FIRST_CALL: "weight_first_call",
    WorkReason.EXPIRY_3: "weight_expiry_3",
    WorkReason.FIRST_VISIT: "weight_first_visit",
    WorkReason.EXPIRY_7: "weight_expiry_7",
    WorkReason.NEW: "weight_new",
    WorkReason.RETRY: "weight_retry",
}
REASON_ORDER: tuple[str, ...] = tuple(WorkReason.values)

BALANCE_STEP = Decimal("2500")
MAX_BALANCE_POINTS = 40
MAX_RETURN_POINTS = 30
MAX_CONTACT_POINTS = 30


def points(*, balance: Decimal, days_left: int, days_since_contact: int | None) -> int:
    """Rule step 3: 0–100 points from the balance, the days to the return date and the last call's age."""
    balance_pts = min(MAX_BALANCE_POINTS, max(0, int(balance // BALANCE_STEP)))
    return_pts = min(MAX_RETURN_POINTS, max(0, MAX_RETURN_POINTS - days_left))
    contact_pts = MAX_CONTACT_POINTS if days_since_contact is None else min(MAX_CONTACT_POINTS,
                                                                            max(0, days_since_contact))
    return balance_pts + return_pts + contact_pts


@dataclass
class QueueItem:
    case_id: int
    case_no: str
    debtor_name: str
    bank_name: str
    balance: Decimal
    return_date: dt.date
    days_left: int
    last_call_at: dt.datetime | None
    reasons: list[str] = field(default_factory=list)
    details: dict[str, str] = field(default_factory=dict)
    weight: int = 0
    points: int = 0
    callback_due_at: dt.datetime | None = None

    @property
    def top_reason(self) -> str:
        return self.reasons[0]

    @property
    def reason_labels(self) -> list[tuple[str, str, str]]:
        return [(r, WorkReason(r).label, self.details.get(r, "")) for r in self.reasons]

    def sort_key(self) -> tuple[int, float, int, int, int]:
        """The ORDER RULE (module docstring) as a sort key."""
        if self.callback_due_at is not None:
            return (0, self.callback_due_at.timestamp(), 0, 0, self.case_id)
        return (1, 0.0, -self.weight, -self.points, self.case_id)


@dataclass
class WorkQueue:
    items: list[QueueItem]
    counts: list[tuple[str, str, int]]  # (reason, label, cases whose strongest reason it is)

    @property
    def total(self) -> int:
        return len(self.items)


def _weights(bank_ids: set[int]) -> dict[int, dict[str, int]]:
    default = BankWorkSettings()
    rows = {s.bank_id: s for s in BankWorkSettings.objects.filter(bank_id__in=bank_ids)}
    return {bid: {r: getattr(rows.get(bid, default), f) for r, f in WEIGHT_FIELD.items()} for bid in bank_ids}


def work_queue_for_collector(*, collector: User, now: dt.datetime | None = None) -> WorkQueue:
    """The collector's queue now: every open case of theirs with a reason, in ORDER RULE order."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    reasons: dict[int, dict[str, str]] = {}

    def add(case_id: int, reason: str, detail: str = "") -> None:
        reasons.setdefault(case_id, {}).setdefault(reason, detail)

    mine = Case.objects.filter(collector=collector, status__in=OPEN_STATUSES)
    callback_due: dict[int, dt.datetime] = {}
    # Each source is read by its own index (collector / user first); cases no longer the collector's or no
    # longer open drop out below, where the candidates' rows are read.
    for case_id, due_at, note in (Callback.objects.filter(collector=collector, status=CallbackStatus.PENDING,
                                                          due_at__lte=now)
                                  .order_by("due_at").values_list("case_id", "due_at", "note")):
        if case_id not in callback_due:
            callback_due[case_id] = due_at
            add(case_id, WorkReason.CALLBACK, f"约定 {timezone.localtime(due_at):%m-%d %H:%M}" + (
                f"：{note}" if note else ""))
    reminder_reason = {ReminderKind.PROMISE_BROKEN: WorkReason.PROMISE_BROKEN,
                       ReminderKind.FIRST_CALL_OVERDUE: WorkReason.FIRST_CALL,
                       ReminderKind.FIRST_VISIT_OVERDUE: WorkReason.FIRST_VISIT}
    for case_id, kind, text in (Reminder.objects.filter(user=collector, resolved_at=None,
                                                        kind__in=list(reminder_reason))
                                .values_list("case_id", "kind", "text")):
        # "AJ001 王某 承诺 12-03 还款 ¥300.00：已违约，…" → what follows the case number and name
        detail = text.split(" ", 2)[-1] if kind == ReminderKind.PROMISE_BROKEN else ""
        add(case_id, reminder_reason[kind], detail)
    for case_id, due_date, amount in (Promise.objects.filter(case__collector=collector, status=PromiseStatus.OPEN,
                                                             due_date__lte=today)
                                      .values_list("case_id", "due_date", "amount")):
        add(case_id, WorkReason.PROMISE_DUE, f"承诺 {due_date:%m-%d} 还 ¥{amount:,.2f}")
    # Past its return date a case is the clerk's to return or retain (C9), not the collector's to chase.
    for case_id, return_date in mine.filter(
            return_date__gte=today, return_date__lte=today + dt.timedelta(days=7)).values_list("pk", "return_date"):
        left = (return_date - today).days
        add(case_id, WorkReason.EXPIRY_3 if left <= 3 else WorkReason.EXPIRY_7, f"{return_date:%m-%d} 退案")
    for case_id in mine.filter(status=CaseStatus.NOT_STARTED).values_list("pk", flat=True):
        add(case_id, WorkReason.NEW)

    # Calls today: of the collector (retry candidates) and on every candidate (worked today).
    todays = CallRecord.objects.filter(deleted_at=None, started_at__gte=day_start, case__isnull=False)
    todays_calls = set(todays.filter(collector=collector).values_list("pk", "case_id", "started_at", "answered_at",
                                                                     "result"))
    todays_calls |= set(todays.filter(case_id__any=list(reasons)).values_list("pk", "case_id", "started_at",
                                                                           "answered_at", "result"))
    calls_by_case: dict[int, list[tuple[dt.datetime, bool]]] = {}
    for _, case_id, started_at, answered_at, result in todays_calls:
        connected = answered_at is not None or result in CONNECTED_CALL_RESULTS
        calls_by_case.setdefault(case_id, []).append((started_at, connected))
    visited_today = set(VisitRecord.objects.filter(case_id__any=list(reasons) + list(calls_by_case), deleted_at=None,
                                                   created_at__gte=day_start).values_list("case_id", flat=True))
    candidate_ids = set(reasons) | set(calls_by_case)
    if not candidate_ids:
        return WorkQueue(items=[], counts=[])
    rows = {r["pk"]: r for r in Case.objects.filter(pk__any=list(candidate_ids), collector=collector,
                                                    status__in=OPEN_STATUSES)
            .values("pk", "case_no", "debtor_name", "bank_id", "bank__name", "balance", "return_date")}
    windows = calling_windows({r["bank_id"] for cid, r in rows.items() if cid in calls_by_case})
    for case_id in candidate_ids:
        row = rows.get(case_id)
        if row is None:
            reasons.pop(case_id, None)
            continue
        worked = case_id in visited_today or case_id in calls_by_case
        case_reasons = reasons.get(case_id, {})
        if worked:
            kept = {WorkReason.CALLBACK: case_reasons[WorkReason.CALLBACK]} if WorkReason.CALLBACK in case_reasons \
                else {}
            calls = calls_by_case.get(case_id, [])
            if calls and case_id not in visited_today and not any(c for _, c in calls):
                start, end, cap = windows[row["bank_id"]]
                last = max(t for t, _ in calls)
                if len(calls) < cap and last <= now - RETRY_GAP and in_window(start=start, end=end, now=now):
                    kept[WorkReason.RETRY] = f"今日未接通 {len(calls)} 次"
            if kept:
                reasons[case_id] = kept
            else:
                reasons.pop(case_id, None)
    if not reasons:
        return WorkQueue(items=[], counts=[])
    last_calls = dict(CallRecord.objects.filter(case_id__any=list(reasons), deleted_at=None)
                      .values("case_id").annotate(last=Max("started_at")).values_list("case_id", "last"))
    weights = _weights({rows[cid]["bank_id"] for cid in reasons})
    items: list[QueueItem] = []
    for case_id, found in reasons.items():
        row = rows[case_id]
        ordered = sorted(found, key=REASON_ORDER.index)
        bank_weights = weights[row["bank_id"]]
        ordered.sort(key=lambda r: (-bank_weights[r], REASON_ORDER.index(r)))
        last = last_calls.get(case_id)
        days_left = (row["return_date"] - today).days
        item = QueueItem(
            case_id=case_id, case_no=row["case_no"], debtor_name=row["debtor_name"], bank_name=row["bank__name"],
            balance=row["balance"], return_date=row["return_date"], days_left=days_left, last_call_at=last,
            reasons=ordered, details=found, weight=bank_weights[ordered[0]],
            points=points(balance=row["balance"], days_left=days_left,
                          days_since_contact=None if last is None else (today - timezone.localdate(last)).days),
            callback_due_at=callback_due.get(case_id) if WorkReason.CALLBACK in found else None,
        )
        if item.callback_due_at is not None and ordered[0] != WorkReason.CALLBACK:
            ordered.remove(WorkReason.CALLBACK)
            ordered.insert(0, WorkReason.CALLBACK)
        items.append(item)
    items.sort(key=QueueItem.sort_key)
    tally = Counter(i.top_reason for i in items)
    counts = [(r, WorkReason(r).label, tally[r]) for r in REASON_ORDER if tally[r]]
    return WorkQueue(items=items, counts=counts)
