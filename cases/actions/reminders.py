"""Reminders (C11, P2, P3): created exactly once by the scheduler, delivered live, marked read.

Exactly once: each reminder has a unique (user, case, kind, cycle) and is created with get_or_create in
its own transaction, so schedulers that restart, catch up after being down, or run twice at once never
create (or announce) one twice. The scheduler only creates what is missing, so catching up is the same
code as a normal tick.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from accounts.models import User
from cases.actions.notifications import user_events_deliver
from cases.actions.stats import dashboard_publish_deltas
from cases.enums import EXPIRY_REMINDER_DAYS, OPEN_STATUSES, ReminderKind
from cases.models import CallRecord, Case, Reminder, VisitRecord
from cases.workdays import WorkCalendar
from realtime.events import ReminderDue, ReminderRead

logger = logging.getLogger(__name__)

# P3: the first call is due within this many working days of an assignment, the first visit within this
# many calendar days.
FIRST_CALL_WORKDAYS = 3
FIRST_VISIT_DAYS = 7
# Assignments older than this are not chased for a first call or visit any more (a batch runs 3 months).
OVERDUE_LOOKBACK_DAYS = 92
# One tick handles at most this many cases per check; a scheduler catching up finishes over a few ticks.
BATCH_LIMIT = 2000

# Expiry thresholds from the most urgent: a case 10 days from its return date gets the 15-day reminder;
# one that is already past 15 days when the scheduler first sees it never gets the stale 30-day one.
_EXPIRY_BUCKETS: tuple[tuple[int, int, int], ...] = ((3, 0, 3), (7, 4, 7), (15, 8, 15), (30, 16, 30))
_OVERDUE_COLUMN = {ReminderKind.FIRST_CALL_OVERDUE: "overdue_calls",
                   ReminderKind.FIRST_VISIT_OVERDUE: "overdue_visits"}


def expiry_text(days_left: int) -> str:
    """P2's wording, with the days actually left."""
    return f"此案件还有{days_left}天到期，请抓紧进行工作"


FIRST_CALL_TEXT = f"案件分配已超过{FIRST_CALL_WORKDAYS}个工作日仍未首次电话联系，请尽快致电"
FIRST_VISIT_TEXT = f"案件分配已超过{FIRST_VISIT_DAYS}天仍未外访，请尽快安排外访"


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@dataclass
class FireResult:
    created: dict[str, int] = field(default_factory=dict)
    resolved: int = 0

    def count(self, kind: str) -> None:
        self.created[kind] = self.created.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(self.created.values())


def reminder_create(*, user_id: int, case_id: int, case_no: str, debtor_name: str, kind: str, cycle: str,
                    due_at: dt.datetime, text: str) -> Reminder | None:
    """Create the reminder unless it exists; announce it to the user. None if it already existed.

    Emits: ReminderDue → user.<user_id> (stored first); DashboardCounterChanged for overdue-work kinds.
    Raises: nothing.
    """
    with transaction.atomic():
        reminder, created = Reminder.objects.get_or_create(
            user_id=user_id, case_id=case_id, kind=kind, cycle=cycle, defaults={"due_at": due_at, "text": text},
        )
        if not created:
            return None
        unread = Reminder.objects.filter(user_id=user_id, read_at=None).count()
        user_events_deliver(
            event=ReminderDue(reminder_id=reminder.pk, case_id=case_id, case_no=case_no, debtor_name=debtor_name,
                              kind=kind, kind_label=ReminderKind(kind).label, text=text,
                              due_at=due_at.astimezone(dt.UTC).isoformat(), unread_count=unread),
            user_ids=[user_id],
        )
        column = _OVERDUE_COLUMN.get(ReminderKind(kind))
        if column is not None:
            dashboard_publish_deltas(collector_id=user_id, deltas={column: 1})
    return reminder


def reminder_fire_expiry(*, today: dt.date, result: FireResult) -> None:
    """P2, C11: 30, 15, 7 and 3 days before the return date, to the collector and the owner clerk."""
    for days, lo, hi in _EXPIRY_BUCKETS:
        kind = EXPIRY_REMINDER_DAYS[days]
        done = Reminder.objects.filter(case=OuterRef("pk"), kind=kind,
                                       cycle=Cast(OuterRef("return_date"), output_field=CharField()))
        rows = (
            Case.objects.filter(status__in=OPEN_STATUSES, return_date__gte=today + dt.timedelta(days=lo),
                                return_date__lte=today + dt.timedelta(days=hi))
            .filter(Q(collector__isnull=False) | Q(owner_clerk__isnull=False))
            .filter(~Exists(done))
            .order_by("return_date", "pk")
            .values_list("pk", "case_no", "debtor_name", "return_date", "collector_id", "owner_clerk_id")[:BATCH_LIMIT]
        )
        for case_id, case_no, debtor_name, return_date, collector_id, clerk_id in rows:
            days_left = (return_date - today).days
            due_at = _local_midnight(return_date - dt.timedelta(days=days))
            for user_id in dict.fromkeys(u for u in (collector_id, clerk_id) if u):
                if reminder_create(user_id=user_id, case_id=case_id, case_no=case_no, debtor_name=debtor_name,
                                   kind=kind, cycle=return_date.isoformat(), due_at=due_at,
                                   text=expiry_text(days_left)):
                    result.count(kind)


def _overdue_candidates(*, kind: str, now: dt.datetime, min_age: dt.timedelta, done_work: Exists
                        ) -> list[tuple[int, str, str, dt.datetime, int]]:
    reminded = Reminder.objects.filter(case=OuterRef("pk"), user=OuterRef("collector"), kind=kind,
                                       created_at__gte=OuterRef("assigned_at"))
    rows = (
        Case.objects.annotate(assigned_day=TruncDate("assigned_at"))
        .filter(status__in=OPEN_STATUSES, collector__isnull=False,
                            assigned_at__lte=now - min_age,
                            assigned_at__gte=now - dt.timedelta(days=OVERDUE_LOOKBACK_DAYS))
        .filter(~done_work, ~Exists(reminded))
        .order_by("assigned_at", "pk")
        .values_list("pk", "case_no", "debtor_name", "assigned_at", "collector_id")[:BATCH_LIMIT]
    )
    # The filter above already excludes an unset assigned_at; the comprehension tells the type checker so.
    return [(pk, no, name, at, collector) for pk, no, name, at, collector in rows if at is not None]


def reminder_fire_first_call(*, now: dt.datetime, calendar: WorkCalendar, result: FireResult) -> None:
    """P3: no call on a case within 3 working days of its assignment (Chinese statutory calendar)."""
    kind = ReminderKind.FIRST_CALL_OVERDUE
    today = timezone.localdate(now)
    called = Exists(CallRecord.objects.filter(case=OuterRef("pk"), deleted_at=None,
                                                started_at__gte=OuterRef("assigned_at")))
    # Working days are never fewer than calendar days, so 3 calendar days is a safe first cut in SQL.
    for case_id, case_no, debtor_name, assigned_at, collector_id in _overdue_candidates(
            kind=kind, now=now, min_age=dt.timedelta(days=FIRST_CALL_WORKDAYS), done_work=called):
        deadline = calendar.add_workdays(timezone.localdate(assigned_at), FIRST_CALL_WORKDAYS)
        if today <= deadline:
            continue
        if reminder_create(user_id=collector_id, case_id=case_id, case_no=case_no, debtor_name=debtor_name,
                           kind=kind, cycle=assigned_at.astimezone(dt.UTC).isoformat(),
                           due_at=_local_midnight(deadline + dt.timedelta(days=1)), text=FIRST_CALL_TEXT):
            result.count(kind)


def reminder_fire_first_visit(*, now: dt.datetime, result: FireResult) -> None:
    """P3: no field visit on a case within 7 days of its assignment."""
    kind = ReminderKind.FIRST_VISIT_OVERDUE
    today = timezone.localdate(now)
    visited = Exists(VisitRecord.objects.filter(case=OuterRef("pk"), deleted_at=None,
                                                visited_on__gte=OuterRef("assigned_day")))
    for case_id, case_no, debtor_name, assigned_at, collector_id in _overdue_candidates(
            kind=kind, now=now, min_age=dt.timedelta(days=FIRST_VISIT_DAYS), done_work=visited):
        deadline = timezone.localdate(assigned_at) + dt.timedelta(days=FIRST_VISIT_DAYS)
        if today <= deadline:
            continue
        if reminder_create(user_id=collector_id, case_id=case_id, case_no=case_no, debtor_name=debtor_name,
                           kind=kind, cycle=assigned_at.astimezone(dt.UTC).isoformat(),
                           due_at=_local_midnight(deadline + dt.timedelta(days=1)), text=FIRST_VISIT_TEXT):
            result.count(kind)


def reminder_resolve_done_work(*, now: dt.datetime, result: FireResult) -> None:
    """Close open overdue-work reminders once the call or visit happened, or the case moved on.

    Emits: DashboardCounterChanged (overdue −1) per resolved reminder.
    """
    stale = (
        ~Q(case__collector_id=OuterRef("user_id")) | ~Q(case__status__in=OPEN_STATUSES)
        | Q(case__assigned_at__gt=OuterRef("created_at"))
    )
    checks = {
        ReminderKind.FIRST_CALL_OVERDUE: Exists(CallRecord.objects.filter(
            case=OuterRef("case_id"), deleted_at=None, started_at__gte=OuterRef("case__assigned_at"))),
        ReminderKind.FIRST_VISIT_OVERDUE: Exists(VisitRecord.objects.filter(
            case=OuterRef("case_id"), deleted_at=None, visited_on__gte=OuterRef("case_assigned_day"))),
    }
    for kind, done in checks.items():
        open_ones = Reminder.objects.annotate(case_assigned_day=TruncDate("case__assigned_at")).filter(
            kind=kind, resolved_at=None)
        still_current = Reminder.objects.filter(pk=OuterRef("pk")).exclude(stale)
        ids = list(open_ones.filter(done | ~Exists(still_current)).values_list("pk", "user_id")[:BATCH_LIMIT])
        for reminder_id, user_id in ids:
            with transaction.atomic():
                if Reminder.objects.filter(pk=reminder_id, resolved_at=None).update(resolved_at=now):
                    dashboard_publish_deltas(collector_id=user_id, deltas={_OVERDUE_COLUMN[kind]: -1})
                    result.resolved += 1


def reminder_fire_due(*, now: dt.datetime | None = None) -> FireResult:
    """One scheduler tick: create every reminder that has fallen due and is missing; resolve done work.

    Emits: ReminderDue per created reminder; DashboardCounterChanged for overdue-work changes.
    Raises: nothing.
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    calendar = WorkCalendar.load(today - dt.timedelta(days=OVERDUE_LOOKBACK_DAYS + 10), today + dt.timedelta(days=1))
    result = FireResult()
    reminder_fire_expiry(today=today, result=result)
    reminder_fire_first_call(now=now, calendar=calendar, result=result)
    reminder_fire_first_visit(now=now, result=result)
    reminder_resolve_done_work(now=now, result=result)
    if result.total or result.resolved:
        logger.info("reminders: created %s, resolved %d", result.created, result.resolved)
    return result


@transaction.atomic
def reminder_mark_read(*, user: User, reminder_ids: list[int] | None = None) -> int:
    """Mark the user's reminders read (all unread ones when `reminder_ids` is None); returns how many.

    Emits: ReminderRead → user.<id> (stored), so the user's other tabs update their bell.
    Raises: nothing.
    """
    qs = Reminder.objects.filter(user=user, read_at=None)
    if reminder_ids is not None:
        qs = qs.filter(pk__in=reminder_ids)
    changed_ids = list(qs.values_list("pk", flat=True))
    if not changed_ids:
        return 0
    Reminder.objects.filter(pk__in=changed_ids, read_at=None).update(read_at=timezone.now())
    unread = Reminder.objects.filter(user=user, read_at=None).count()
    user_events_deliver(
        event=ReminderRead(reminder_ids=() if reminder_ids is None else tuple(changed_ids),
                           all=reminder_ids is None, unread_count=unread),
        user_ids=[user.pk],
    )
    return len(changed_ids)
