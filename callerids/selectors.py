"""Reads of the caller-ID pool (issue 17): a number by its digits, the admin page's rows with today's use and the
answer-rate trend, one number's calls. Must not import views, consumers or the dialer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from callerids.models import CallerNumber, CallerNumberDay
from cases.models import CallRecord
from cases.selectors.dialer import dial_key

RECENT_DAYS = 7  # the "recent" answer rate the rotation prefers
TREND_DAYS = 14  # the admin page's trend


def local_day(now: dt.datetime) -> dt.date:
    return timezone.localtime(now).date()


def caller_number_for(number: str) -> CallerNumber | None:
    """The pool number with these digits (as the exchange writes them: +86…, spaces, hyphens), None if not ours."""
    key = dial_key(number)
    return CallerNumber.objects.filter(number=key).first() if key else None


@dataclass
class DayFigure:
    day: dt.date
    attempts: int
    answered: int

    @property
    def rate(self) -> float | None:
        return self.answered / self.attempts if self.attempts else None


@dataclass
class CallerNumberRow:
    number: CallerNumber
    today: DayFigure
    trend: list[DayFigure] = field(default_factory=list)  # TREND_DAYS days, oldest first, today last

    @property
    def room(self) -> int:
        return max(self.number.daily_cap - self.today.attempts, 0)

    @property
    def recent(self) -> DayFigure:
        days = self.trend[-RECENT_DAYS:]
        return DayFigure(day=self.today.day, attempts=sum(d.attempts for d in days),
                         answered=sum(d.answered for d in days))


def caller_number_rows(*, now: dt.datetime, trunk: str = "") -> list[CallerNumberRow]:
    """Every pool number (of `trunk`, or all) with today's attempts and the last TREND_DAYS days' answer rates."""
    numbers = list(CallerNumber.objects.select_related("bank").order_by("trunk", "bank__code", "number")
                   .filter(**({"trunk": trunk} if trunk else {})))
    today = local_day(now)
    first = today - dt.timedelta(days=TREND_DAYS - 1)
    figures = {(d.caller_number_id, d.day): d for d in
               CallerNumberDay.objects.filter(caller_number__in=numbers, day__gte=first, day__lte=today)}
    rows = []
    for n in numbers:
        trend = []
        for i in range(TREND_DAYS):
            day = first + dt.timedelta(days=i)
            d = figures.get((n.pk, day))
            trend.append(DayFigure(day=day, attempts=d.attempts if d else 0, answered=d.answered if d else 0))
        rows.append(CallerNumberRow(number=n, today=trend[-1], trend=trend))
    return rows


def caller_number_row(*, caller_number: CallerNumber, now: dt.datetime) -> CallerNumberRow:
    return next(r for r in caller_number_rows(now=now, trunk=caller_number.trunk) if r.number.pk == caller_number.pk)


def caller_number_calls(*, caller_number: CallerNumber, limit: int = 100) -> QuerySet[CallRecord]:
    """The latest calls that showed this number (outbound) or came in on it (call backs), newest first."""
    return (CallRecord.objects.filter(caller_id=caller_number.number, deleted_at__isnull=True)
            .select_related("case", "collector").order_by("-started_at", "-id")[:limit])
