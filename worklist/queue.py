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

Reading (bench/work_queue.py: 1,000,000 cases, 200 collectors, ~900 queue items each): one query reads the
collector's candidate cases with the facts the rule needs (_candidates), two small ones the due promises and
today's calls of the cases called today, and two tiny ones the banks' weights and calling windows; before, twelve
round trips bound lists of a thousand case ids. PostgreSQL's JIT is off (project/settings.py): this query's
estimated cost crossed jit_above_cost and compiling it took longer than running it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery, When
from django.db.models import Case as CaseWhen
from django.utils import timezone

from accounts.models import User
from cases.enums import CONNECTED_CALL_RESULTS, OPEN_STATUSES, CaseStatus, ReminderKind
from cases.models import CallRecord, Case, Reminder, VisitRecord
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
REMINDER_REASON: dict[str, str] = {ReminderKind.PROMISE_BROKEN: WorkReason.PROMISE_BROKEN,
                                   ReminderKind.FIRST_CALL_OVERDUE: WorkReason.FIRST_CALL,
                                   ReminderKind.FIRST_VISIT_OVERDUE: WorkReason.FIRST_VISIT}

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


def _candidates(*, collector: User, now: dt.datetime, today: dt.date, day_start: dt.datetime) -> QuerySet[Case]:
    """The collector's open cases that may be in the queue now, with every fact the rule reads, in one query.

    A case is a candidate when one of its reasons' sources names it (a due callback, an open broken-promise or
    first-call/first-visit reminder, a due open promise), its return date is within 7 days, it is not started,
    or the collector called it today (a retry). The sources are read as `id IN (…)` sets keyed by the collector
    (each by its own index), so the database reads the collector's open cases once (case_collector_status_idx)
    and looks up the facts of the candidates only: work in proportion to one collector's cases, in one round
    trip, whatever the size of the tables.
    """
    callbacks = Callback.objects.filter(collector=collector, status=CallbackStatus.PENDING, due_at__lte=now)
    reminders = Reminder.objects.filter(user=collector, resolved_at=None)
    promises = Promise.objects.filter(status=PromiseStatus.OPEN, due_date__lte=today)
    todays_calls = CallRecord.objects.filter(deleted_at=None, started_at__gte=day_start)
    case = OuterRef("pk")

    def first(qs: QuerySet[Any], column: str) -> Subquery:
        return Subquery(qs.filter(case_id=case).values(column)[:1])

    def among(qs: QuerySet[Any]) -> Q:
        return Q(pk__in=qs.values("case_id"))  # one hashed set per query, not a lookup per case

    def only_if(condition: Q | Exists, value: Subquery | Exists) -> CaseWhen:
        # The value's lookup runs for the few cases the condition holds for (the database evaluates CASE lazily).
        return CaseWhen(When(condition, then=value), default=None)

    due_callbacks = callbacks.order_by("due_at", "id")
    broken = reminders.filter(kind=ReminderKind.PROMISE_BROKEN).order_by("-due_at", "-id")
    last_call = first(CallRecord.objects.filter(deleted_at=None).order_by("-started_at"), "started_at")
    return (
        Case.objects.filter(collector=collector, status__in=OPEN_STATUSES)
        .filter(among(callbacks) | among(reminders.filter(kind__in=list(REMINDER_REASON))) | among(promises)
                | Q(return_date__gte=today, return_date__lte=today + dt.timedelta(days=7))
                | Q(status=CaseStatus.NOT_STARTED) | among(todays_calls.filter(collector=collector)))
        .annotate(
            last_call=last_call,
            callback_due=only_if(among(callbacks), first(due_callbacks, "due_at")),
            callback_note=only_if(among(callbacks), first(due_callbacks, "note")),
            broken_text=only_if(among(broken), first(broken, "text")),
            first_call=ExpressionWrapper(among(reminders.filter(kind=ReminderKind.FIRST_CALL_OVERDUE)),
                                         output_field=BooleanField()),
            first_visit=ExpressionWrapper(among(reminders.filter(kind=ReminderKind.FIRST_VISIT_OVERDUE)),
                                          output_field=BooleanField()),
            visited_today=Exists(VisitRecord.objects.filter(case_id=case, deleted_at=None, created_at__gte=day_start)),
        )
        .order_by()
        .values("pk", "case_no", "debtor_name", "bank_id", "bank__name", "balance", "return_date", "status",
                "callback_due", "callback_note", "broken_text", "first_call", "first_visit", "visited_today",
                "last_call")
    )


def _reasons(row: dict[str, Any], *, today: dt.date, promise: tuple[dt.date, Decimal] | None) -> dict[str, str]:
    """A candidate's reasons (before the worked-today rule), each with its detail."""
    found: dict[str, str] = {}
    if row["callback_due"] is not None:
        note = row["callback_note"]
        found[WorkReason.CALLBACK] = f"约定 {timezone.localtime(row['callback_due']):%m-%d %H:%M}" + (
            f"：{note}" if note else "")
    if row["broken_text"] is not None:
        # "AJ001 王某 承诺 12-03 还款 ¥300.00：已违约，…" → what follows the case number and name
        found[WorkReason.PROMISE_BROKEN] = row["broken_text"].split(" ", 2)[-1]
    if row["first_call"]:
        found[WorkReason.FIRST_CALL] = ""
    if row["first_visit"]:
        found[WorkReason.FIRST_VISIT] = ""
    if promise is not None:
        found[WorkReason.PROMISE_DUE] = f"承诺 {promise[0]:%m-%d} 还 ¥{promise[1]:,.2f}"
    # Past its return date a case is the clerk's to return or retain (C9), not the collector's to chase.
    left = (row["return_date"] - today).days
    if 0 <= left <= 7:
        found[WorkReason.EXPIRY_3 if left <= 3 else WorkReason.EXPIRY_7] = f"{row['return_date']:%m-%d} 退案"
    if row["status"] == CaseStatus.NOT_STARTED:
        found[WorkReason.NEW] = ""
    return found


def work_queue_for_collector(*, collector: User, now: dt.datetime | None = None) -> WorkQueue:
    """The collector's queue now: every open case of theirs with a reason, in ORDER RULE order."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    day_start = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    rows = list(_candidates(collector=collector, now=now, today=today, day_start=day_start))
    if not rows:
        return WorkQueue(items=[], counts=[])
    # Due promises on the collector's cases (a few: an open promise past its grace is decided broken).
    promised: dict[int, tuple[dt.date, Decimal]] = {}
    for case_id, due_date, amount in (Promise.objects.filter(case__collector=collector, status=PromiseStatus.OPEN,
                                                             due_date__lte=today)
                                      .order_by("due_date", "id").values_list("case_id", "due_date", "amount")):
        promised[case_id] = (due_date, amount)  # the latest due, as before
    # Today's calls, of the candidates called today only (their last call is today): a few cases, by their index.
    called = [r["pk"] for r in rows if r["last_call"] is not None and r["last_call"] >= day_start]
    calls_by_case: dict[int, list[bool]] = {}
    for case_id, answered_at, result in (CallRecord.objects.filter(case_id__in=called, deleted_at=None,
                                                                   started_at__gte=day_start)
                                         .values_list("case_id", "answered_at", "result") if called else []):
        calls_by_case.setdefault(case_id, []).append(answered_at is not None or result in CONNECTED_CALL_RESULTS)
    windows = calling_windows({r["bank_id"] for r in rows if r["pk"] in calls_by_case})
    weights = _weights({r["bank_id"] for r in rows})
    # A reason's rank within a case (rule step 2): the bank's weight, then the reasons' documented order.
    ranks = {bid: {r: (-w[r], REASON_ORDER.index(r)) for r in REASON_ORDER} for bid, w in weights.items()}
    tz = timezone.get_current_timezone()
    items: list[QueueItem] = []
    for row in rows:
        found = _reasons(row, today=today, promise=promised.get(row["pk"]))
        calls = calls_by_case.get(row["pk"], [])
        if calls or row["visited_today"]:
            # Worked today: only a due callback and a retry of an unanswered call keep the case in the queue.
            kept = {WorkReason.CALLBACK: found[WorkReason.CALLBACK]} if WorkReason.CALLBACK in found else {}
            if calls and not row["visited_today"] and not any(calls):
                start, end, cap = windows[row["bank_id"]]
                if (len(calls) < cap and row["last_call"] <= now - RETRY_GAP
                        and in_window(start=start, end=end, now=now)):
                    kept[WorkReason.RETRY] = f"今日未接通 {len(calls)} 次"
            found = kept
        if not found:
            continue
        bank_weights = weights[row["bank_id"]]
        ordered = sorted(found, key=ranks[row["bank_id"]].__getitem__)
        last = row["last_call"]
        days_left = (row["return_date"] - today).days
        callback_due_at = row["callback_due"] if WorkReason.CALLBACK in found else None
        if callback_due_at is not None and ordered[0] != WorkReason.CALLBACK:
            ordered.remove(WorkReason.CALLBACK)
            ordered.insert(0, WorkReason.CALLBACK)
        items.append(QueueItem(
            case_id=row["pk"], case_no=row["case_no"], debtor_name=row["debtor_name"], bank_name=row["bank__name"],
            balance=row["balance"], return_date=row["return_date"], days_left=days_left, last_call_at=last,
            reasons=ordered, details=found, weight=bank_weights[ordered[0]],
            points=points(balance=row["balance"], days_left=days_left,
                          days_since_contact=None if last is None else (today - last.astimezone(tz).date()).days),
            callback_due_at=callback_due_at,
        ))
    items.sort(key=QueueItem.sort_key)
    tally = Counter(i.top_reason for i in items)
    counts = [(r, WorkReason(r).label, tally[r]) for r in REASON_ORDER if tally[r]]
    return WorkQueue(items=items, counts=counts)
