"""Reads of reminders: a user's list and unread count, and the urgency of cases in a collector's list."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case as CaseWhen
from django.db.models import Count, Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.utils import timezone

from accounts.models import User
from cases.enums import ReminderKind
from cases.models import Case, Reminder

# Urgency ranks (lower is more urgent), used to flag and sort a collector's cases.
URGENCY_OVERDUE_WORK = 0
URGENCY_LABELS: dict[int, str] = {0: "工作超期", 1: "3天内到期", 2: "7天内到期", 3: "15天内到期", 4: "30天内到期"}
URGENCY_NONE = 9


def reminder_list_for_user(*, user: User, unread_only: bool = False) -> QuerySet[Reminder]:
    """The user's reminders, newest first; `unread_only`: those that still need action (unread and open)."""
    qs = Reminder.objects.filter(user=user).select_related("case")
    if unread_only:
        qs = qs.filter(read_at=None, resolved_at=None)
    return qs.order_by("-due_at", "-id")


def reminder_count_unread(*, user: User) -> int:
    """The unread badge: unread reminders whose reason is still there (resolved ones need no action)."""
    if not user.is_authenticated:
        return 0
    return Reminder.objects.filter(user=user, read_at=None, resolved_at=None).count()


def reminder_digest_for_user(*, user: User) -> list[tuple[str, str, int]]:
    """The user's unread open reminders counted by kind, most first: [(kind, label, count)]."""
    rows = (Reminder.objects.filter(user=user, read_at=None, resolved_at=None).values("kind")
            .annotate(n=Count("id")).order_by("-n", "kind"))
    return [(r["kind"], ReminderKind(r["kind"]).label, r["n"]) for r in rows]


def annotate_urgency(qs: QuerySet[Case], *, today: dt.date | None = None) -> QuerySet[Case]:
    """Add `overdue_call`, `overdue_visit` (open overdue-work reminders), `days_left` and `urgency` to cases.

    Order a list by ("urgency", "return_date") to put the most pressing cases first; render the flags with
    the partial `cases/_reminder_urgency.html`.
    """
    today = today or timezone.localdate()

    def open_overdue(kind: str) -> Exists:
        return Exists(Reminder.objects.filter(case=OuterRef("pk"), kind=kind, resolved_at=None))

    def within(days: int) -> dict[str, dt.date]:
        return {"return_date__gte": today, "return_date__lte": today + dt.timedelta(days=days)}

    return qs.annotate(
        overdue_call=open_overdue(ReminderKind.FIRST_CALL_OVERDUE),
        overdue_visit=open_overdue(ReminderKind.FIRST_VISIT_OVERDUE),
    ).annotate(
        urgency=CaseWhen(
            When(overdue_call=True, then=Value(URGENCY_OVERDUE_WORK)),
            When(overdue_visit=True, then=Value(URGENCY_OVERDUE_WORK)),
            When(**within(3), then=Value(1)),
            When(**within(7), then=Value(2)),
            When(**within(15), then=Value(3)),
            When(**within(30), then=Value(4)),
            default=Value(URGENCY_NONE),
            output_field=IntegerField(),
        ),
    )


def days_left(case: Case, *, today: dt.date | None = None) -> int:
    return (case.return_date - (today or timezone.localdate())).days
