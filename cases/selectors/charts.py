"""Series behind the charts of the managers' dashboard and the report pages (issue 18 item 1).

Read from the same roll-ups and rows as the tables beside them (RepaymentDaily, BatchProgress, the calls), so a
chart and its table always agree. Values are exact Decimals here; the views turn them into JSON numbers only for
drawing. Must not import views or actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import ExtractHour
from django.utils import timezone

from accounts.models import User
from cases import rollups
from cases.enums import CONNECTED_CALL_RESULTS, CallDirection
from cases.models import BatchProgress, CallRecord, RepaymentDaily
from cases.selectors.banks import bank_list_for_user

ZERO = Decimal("0.00")
FEN = Decimal("0.01")
HOURS = list(range(24))


@dataclass
class HourlyCalls:
    """Outbound calls and connected calls per hour (0–23, Asia/Shanghai) of one day; deleted records left out."""

    day: dt.date
    made: list[int] = field(default_factory=lambda: [0] * 24)
    connected: list[int] = field(default_factory=lambda: [0] * 24)


def calls_by_hour(*, day: dt.date) -> HourlyCalls:
    """The dashboard's 外呼 / 接通 of `day` by hour, counted like its counters (outbound only, live records)."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min), tz)
    answered = Q(answered_at__isnull=False) | Q(result__in=CONNECTED_CALL_RESULTS)
    rows = (CallRecord.objects.filter(started_at__gte=start, started_at__lt=start + dt.timedelta(days=1),
                                      deleted_at__isnull=True, direction=CallDirection.OUTBOUND,
                                      collector__isnull=False)
            .annotate(h=ExtractHour("started_at", tzinfo=tz)).values("h").order_by()
            .annotate(n=Count("id"), c=Count("id", filter=answered)))
    out = HourlyCalls(day=day)
    for r in rows:
        out.made[r["h"]], out.connected[r["h"]] = r["n"], r["c"]
    return out


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def _days_in_month(month: dt.date) -> int:
    return ((month + dt.timedelta(days=32)).replace(day=1) - month).days


@dataclass
class MonthCumulative:
    """Repayments of a month added up day by day: `cumulative[i]` is the total of days 1..i+1."""

    month: dt.date
    cumulative: list[Decimal]

    @property
    def total(self) -> Decimal:
        return self.cumulative[-1] if self.cumulative else ZERO


def repayments_cumulative(*, user: User, month: dt.date, until: dt.date | None = None,
                          bank_id: int | None = None) -> MonthCumulative:
    """A month's repayments (reversals netted, as in the repayment report) cumulated per day, from the daily
    roll-up of the banks `user` sees; up to `until` (today) when the month is running."""
    month = _month_start(month)
    last = month + dt.timedelta(days=_days_in_month(month) - 1)
    if until is not None:
        last = min(last, until)
    if last < month:
        return MonthCumulative(month=month, cumulative=[])
    banks = bank_list_for_user(user=user)
    if bank_id:
        banks = banks.filter(pk=bank_id)
    per_day = dict(RepaymentDaily.objects.filter(bank__in=banks, day__gte=month, day__lte=last)
                   .values("day").order_by().annotate(a=Sum("amount")).values_list("day", "a"))
    running, out = ZERO, []
    for i in range((last - month).days + 1):
        running += Decimal(str(per_day.get(month + dt.timedelta(days=i)) or 0)).quantize(FEN)
        out.append(running)
    return MonthCumulative(month=month, cumulative=out)


@dataclass
class BatchRate:
    batch_id: int
    label: str
    entrusted: Decimal
    repaid: Decimal
    return_date: dt.date

    @property
    def rate(self) -> Decimal:
        """Recovered share in percent, two places (as the batch progress table shows it)."""
        return (self.repaid * 100 / self.entrusted).quantize(FEN) if self.entrusted else ZERO


def recovery_by_open_batch(*, user: User, limit: int = 20) -> list[BatchRate]:
    """Open batches (a case not yet returned), nearest return date first: repaid ÷ entrusted of each."""
    rollups.refresh()
    qs = (BatchProgress.objects.filter(bank__in=bank_list_for_user(user=user), cases__gt=0)
          .filter(returned__lt=F("cases")).select_related("batch__bank")
          .order_by("batch__return_date", "batch_id")[:limit])
    return [BatchRate(batch_id=p.batch_id, label=f"{p.batch.bank.name} {p.batch.batch_no}", entrusted=p.entrusted,
                      repaid=p.repaid, return_date=p.batch.return_date) for p in qs]


def month_pair(today: dt.date) -> tuple[dt.date, dt.date]:
    """(this month's first day, last month's first day)."""
    this = _month_start(today)
    return this, _previous_month(this)


def days_in_month(month: dt.date) -> int:
    return _days_in_month(month)
