"""Reminders (C11, P2, P3, issue 16): created exactly once by the scheduler, delivered live, marked read,
resolved when their reason goes away, and summed up once a day.

One row per (user, case, topic): a reminder of a new kind or cycle of the same topic (the 15-day expiry
reminder after the 30-day one, a new assignment's first-call reminder) replaces the row, unread and open
again, instead of adding one; so a collector holds one expiry reminder per case, not four. Each (kind, cycle)
is announced exactly once: the row is taken with get_or_create and locked in its own transaction, so
schedulers that restart, catch up after being down, or run twice at once never announce one twice. The
scheduler only creates what is missing, so catching up is the same code as a normal tick.

Resolved: a reminder whose reason went away (the case was retained, returned or settled, called, visited, or
moved to another collector) gets `resolved_at`, at once from the action that removed the reason
(reminder_resolve_stale(case_ids=...)) and on every tick for anything missed; it then no longer counts as
unread.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone

from accounts.models import User
from cases.actions.notifications import user_events_deliver
from cases.actions.stats import dashboard_publish_deltas
from cases.enums import EXPIRY_REMINDER_DAYS, OPEN_STATUSES, REMINDER_TOPIC, ReminderKind, ReminderTopic
from cases.models import CallRecord, Case, Reminder, UserEvent, VisitRecord
from cases.models.reminders import expiry_text
from cases.workdays import WorkCalendar
from realtime.events import ReminderDigest, ReminderDue, ReminderRead, ReminderResolved

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
# The daily digest goes out on the first tick after this local hour.
DIGEST_HOUR = 8


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


def unread_open(user_id: int) -> int:
    """What the unread badge counts: unread reminders whose reason is still there."""
    return Reminder.objects.filter(user_id=user_id, read_at=None, resolved_at=None).count()


def reminder_create(*, user_id: int, case_id: int, case_no: str, debtor_name: str, kind: str, cycle: str,
                    due_at: dt.datetime, text: str) -> Reminder | None:
    """Create the user's reminder of this case and topic, or replace it with this (kind, cycle); announce it.
    None if this (kind, cycle) was already announced.

    Emits: ReminderDue → user.<user_id> (stored first); DashboardCounterChanged for overdue-work kinds.
    Raises: nothing.
    """
    topic = REMINDER_TOPIC[kind]
    column = _OVERDUE_COLUMN.get(ReminderKind(kind))
    with transaction.atomic():
        reminder, created = Reminder.objects.get_or_create(
            user_id=user_id, case_id=case_id, topic=topic,
            defaults={"kind": kind, "cycle": cycle, "due_at": due_at, "text": text},
        )
        counted_before = False
        if not created:
            reminder = Reminder.objects.select_for_update().get(pk=reminder.pk)
            if reminder.kind == kind and reminder.cycle == cycle:
                return None
            counted_before = reminder.resolved_at is None and _OVERDUE_COLUMN.get(ReminderKind(reminder.kind)) == column
            reminder.kind, reminder.cycle, reminder.due_at, reminder.text = kind, cycle, due_at, text
            reminder.created_at, reminder.read_at, reminder.resolved_at = timezone.now(), None, None
            reminder.save(update_fields=["kind", "cycle", "due_at", "text", "created_at", "read_at", "resolved_at"])
        user_events_deliver(
            event=ReminderDue(reminder_id=reminder.pk, case_id=case_id, case_no=case_no, debtor_name=debtor_name,
                              kind=kind, kind_label=ReminderKind(kind).label, text=text,
                              due_at=due_at.astimezone(dt.UTC).isoformat(), unread_count=unread_open(user_id)),
            user_ids=[user_id],
        )
        if column is not None and not counted_before:
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


def _overdue_candidates(*, kind: str, now: dt.datetime, min_age: dt.timedelta, done_work: Exists,
                        role: str) -> list[tuple[int, str, str, dt.datetime, int]]:
    reminded = Reminder.objects.filter(case=OuterRef("pk"), user=OuterRef("collector"), kind=kind,
                                       created_at__gte=OuterRef("assigned_at"))
    cases = Case.objects.filter(**{f"collector__{role}": True})
    rows = (
        cases.annotate(assigned_day=TruncDate("assigned_at"))
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
    """P3: no call on a case within 3 working days of its assignment (Chinese statutory calendar), to a collector
    who phones (a field collector's own cases are chased by their first visit)."""
    kind = ReminderKind.FIRST_CALL_OVERDUE
    today = timezone.localdate(now)
    called = Exists(CallRecord.objects.filter(case=OuterRef("pk"), deleted_at=None,
                                                started_at__gte=OuterRef("assigned_at")))
    # Working days are never fewer than calendar days, so 3 calendar days is a safe first cut in SQL.
    for case_id, case_no, debtor_name, assigned_at, collector_id in _overdue_candidates(
            kind=kind, now=now, min_age=dt.timedelta(days=FIRST_CALL_WORKDAYS), done_work=called,
            role="is_phone_collector"):
        deadline = calendar.add_workdays(timezone.localdate(assigned_at), FIRST_CALL_WORKDAYS)
        if today <= deadline:
            continue
        if reminder_create(user_id=collector_id, case_id=case_id, case_no=case_no, debtor_name=debtor_name,
                           kind=kind, cycle=assigned_at.astimezone(dt.UTC).isoformat(),
                           due_at=_local_midnight(deadline + dt.timedelta(days=1)), text=FIRST_CALL_TEXT):
            result.count(kind)


def reminder_fire_first_visit(*, now: dt.datetime, result: FireResult) -> None:
    """P3: no field visit on a case within 7 days of its assignment, to a collector who does field visits.

    A phone collector whose case needs a visit hands it to a field colleague (P5); reminding every phone
    collector of every unvisited case was most of the 190 unread reminders of the demo's phone collector.
    """
    kind = ReminderKind.FIRST_VISIT_OVERDUE
    today = timezone.localdate(now)
    visited = Exists(VisitRecord.objects.filter(case=OuterRef("pk"), deleted_at=None,
                                                visited_on__gte=OuterRef("assigned_day")))
    for case_id, case_no, debtor_name, assigned_at, collector_id in _overdue_candidates(
            kind=kind, now=now, min_age=dt.timedelta(days=FIRST_VISIT_DAYS), done_work=visited,
            role="is_field_collector"):
        deadline = timezone.localdate(assigned_at) + dt.timedelta(days=FIRST_VISIT_DAYS)
        if today <= deadline:
            continue
        if reminder_create(user_id=collector_id, case_id=case_id, case_no=case_no, debtor_name=debtor_name,
                           kind=kind, cycle=assigned_at.astimezone(dt.UTC).isoformat(),
                           due_at=_local_midnight(deadline + dt.timedelta(days=1)), text=FIRST_VISIT_TEXT):
            result.count(kind)


def _stale_reminders() -> Q:
    """Open reminders whose reason went away, as a filter on Reminder (with `case_assigned_day` annotated).

    Any topic: the case is no longer open (returned, settled). Expiry: the return date moved (retained) or the
    user neither works nor owns the case any more. First call / first visit: done, or the case was re-assigned.
    Promise (due today, broken): a call or visit on the case since the reminder came. Callbacks are resolved by
    the call that completes them (worklist), or with the case.
    """
    not_theirs = ~Q(case__collector_id=F("user_id"))
    called = Exists(CallRecord.objects.filter(case=OuterRef("case_id"), deleted_at=None,
                                              started_at__gte=OuterRef("case__assigned_at")))
    visited = Exists(VisitRecord.objects.filter(case=OuterRef("case_id"), deleted_at=None,
                                                visited_on__gte=OuterRef("case_assigned_day")))
    followed_up = Exists(CallRecord.objects.filter(case=OuterRef("case_id"), deleted_at=None,
                                                   started_at__gte=OuterRef("created_at"))) | Exists(
        VisitRecord.objects.filter(case=OuterRef("case_id"), deleted_at=None, created_at__gte=OuterRef("created_at")))
    work_stale = not_theirs | Q(case__assigned_at__gt=F("created_at"))
    return ~Q(case__status__in=OPEN_STATUSES) | (
        Q(topic=ReminderTopic.EXPIRY) & (
            ~Q(cycle=Cast("case__return_date", output_field=CharField()))
            | (not_theirs & ~Q(case__owner_clerk_id=F("user_id"))))
    ) | (Q(topic=ReminderTopic.FIRST_CALL) & (work_stale | called)) | (
        Q(topic=ReminderTopic.FIRST_VISIT) & (work_stale | visited)) | (Q(topic=ReminderTopic.PROMISE) & followed_up)


def reminder_resolve(*, reminder_ids: list[int], now: dt.datetime | None = None) -> int:
    """Mark these open reminders resolved and tell their users; returns how many moved.

    Emits: ReminderResolved → user.<id> (stored); DashboardCounterChanged (overdue −1) per overdue-work one.
    Raises: nothing.
    """
    now = now or timezone.now()
    moved: dict[int, list[int]] = {}
    with transaction.atomic():
        rows = list(Reminder.objects.select_for_update().filter(pk__in=reminder_ids, resolved_at=None)
                    .values_list("pk", "user_id", "kind"))
        if not rows:
            return 0
        Reminder.objects.filter(pk__in=[r[0] for r in rows]).update(resolved_at=now)
        for pk, user_id, kind in rows:
            moved.setdefault(user_id, []).append(pk)
            column = _OVERDUE_COLUMN.get(ReminderKind(kind))
            if column is not None:
                dashboard_publish_deltas(collector_id=user_id, deltas={column: -1})
        for user_id, ids in moved.items():
            user_events_deliver(event=ReminderResolved(reminder_ids=tuple(ids), unread_count=unread_open(user_id)),
                                user_ids=[user_id])
    return len(rows)


def reminder_resolve_stale(*, case_ids: list[int] | None = None, now: dt.datetime | None = None) -> int:
    """Resolve the open reminders (of these cases, or all) whose reason went away; returns how many.

    The actions that remove a reason (retain, return, a call, a visit, a settling repayment) call it with their
    case, so the badge drops at once; the scheduler's tick catches everything else (a re-assignment).
    Emits: as reminder_resolve. Raises: nothing.
    """
    qs = Reminder.objects.filter(resolved_at=None)
    if case_ids is not None:
        qs = qs.filter(case_id__in=case_ids)
    qs = qs.annotate(case_assigned_day=TruncDate("case__assigned_at")).filter(_stale_reminders())
    ids = list(qs.values_list("pk", flat=True)[:BATCH_LIMIT])
    return reminder_resolve(reminder_ids=ids, now=now) if ids else 0


def reminder_resolve_done_work(*, now: dt.datetime, result: FireResult) -> None:
    """The tick's sweep: resolve every open reminder whose reason went away."""
    result.resolved += reminder_resolve_stale(now=now)


def reminder_digest_send(*, now: dt.datetime) -> int:
    """Once a day after DIGEST_HOUR local: each user with open unread reminders gets one summary by kind.

    Exactly once per user and day: the user's row is locked while the day's digest is looked for among the
    stored events and written.
    Emits: ReminderDigest → user.<id> (stored). Raises: nothing.
    """
    local = timezone.localtime(now)
    if local.hour < DIGEST_HOUR:
        return 0
    day_start = _local_midnight(local.date())
    counts: dict[int, list[tuple[str, int]]] = {}
    rows = (Reminder.objects.filter(read_at=None, resolved_at=None).values("user_id", "kind")
            .annotate(n=Count("id")).order_by("user_id", "kind"))
    for row in rows:
        counts.setdefault(row["user_id"], []).append((row["kind"], row["n"]))
    already = set(UserEvent.objects.filter(type=ReminderDigest.type, created_at__gte=day_start,
                                           user_id__in=list(counts)).values_list("user_id", flat=True))
    sent = 0
    for user_id, kinds in counts.items():
        if user_id in already:
            continue
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=user_id).first()
            if UserEvent.objects.filter(type=ReminderDigest.type, user_id=user_id, created_at__gte=day_start).exists():
                continue
            kinds.sort(key=lambda kn: (-kn[1], kn[0]))
            user_events_deliver(
                event=ReminderDigest(day=local.date().isoformat(), total=sum(n for _, n in kinds),
                                     lines=tuple(f"{ReminderKind(k).label} {n} 件" for k, n in kinds)),
                user_ids=[user_id])
            sent += 1
    return sent


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
    unread = unread_open(user.pk)
    user_events_deliver(
        event=ReminderRead(reminder_ids=() if reminder_ids is None else tuple(changed_ids),
                           all=reminder_ids is None, unread_count=unread),
        user_ids=[user.pk],
    )
    return len(changed_ids)
