"""Reads of the collector's day: a case's promises and callbacks, and promise statistics for the reports (the
queue itself is worklist.queue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncMonth

from cases.models import Case
from worklist.models import Callback, CallbackStatus, Promise, PromiseStatus


def promise_list_for_case(*, case: Case) -> QuerySet[Promise]:
    return Promise.objects.filter(case=case).select_related("collector").order_by("-due_date", "-id")


def callback_list_for_case(*, case: Case) -> QuerySet[Callback]:
    return Callback.objects.filter(case=case).select_related("collector").order_by("-due_at", "-id")


def callback_pending_for_case(*, case: Case) -> QuerySet[Callback]:
    return callback_list_for_case(case=case).filter(status=CallbackStatus.PENDING)


@dataclass(frozen=True)
class PromiseStatsRow:
    key: str          # the group's label (collector name, department, branch or batch number)
    period: dt.date   # the day, or the first day of the month
    count: int
    amount: Decimal
    kept: int
    partly_kept: int
    broken: int
    kept_amount: Decimal

    @property
    def decided(self) -> int:
        return self.kept + self.partly_kept + self.broken

    @property
    def kept_rate(self) -> Decimal | None:
        """Kept in full of the decided promises (0–1), None before any was decided."""
        return (Decimal(self.kept) / Decimal(self.decided)).quantize(Decimal("0.0001")) if self.decided else None


PROMISE_GROUPS: dict[str, tuple[str, str]] = {
    "collector": ("collector__full_name", "业务员"),
    "department": ("collector__department__name", "部门"),
    "branch": ("collector__branch__name", "分公司"),
    "batch": ("case__batch__batch_no", "批次"),
}


def promise_stats(*, cases: QuerySet[Case], group_by: str, by_month: bool, date_from: dt.date,
                  date_to: dt.date) -> list[PromiseStatsRow]:
    """Promises made in the range on `cases` (the viewer's scope), counted per group and day or month: how
    many, how much, how many kept, partly kept and broken, and the kept rate (for the reports, issue 16 item 2).
    Cancelled promises are left out."""
    field, _ = PROMISE_GROUPS[group_by]
    trunc = TruncMonth("made_on") if by_month else TruncDay("made_on")
    rows = (Promise.objects.filter(case__in=cases, made_on__gte=date_from, made_on__lte=date_to)
            .exclude(status=PromiseStatus.CANCELLED)
            .annotate(period=trunc, key=F(field)).values("key", "period")
            .annotate(count=Count("id"), amount=Sum("amount"),
                      kept=Count("id", filter=Q(status=PromiseStatus.KEPT)),
                      partly=Count("id", filter=Q(status=PromiseStatus.PARTLY_KEPT)),
                      broken=Count("id", filter=Q(status=PromiseStatus.BROKEN)),
                      kept_amount=Sum("paid_amount", filter=Q(status__in=(PromiseStatus.KEPT,
                                                                          PromiseStatus.PARTLY_KEPT))))
            .order_by("period", "key"))
    out = []
    for r in rows:
        period = r["period"].date() if isinstance(r["period"], dt.datetime) else r["period"]
        out.append(PromiseStatsRow(key=r["key"] or "—", period=period, count=r["count"], amount=r["amount"],
                                   kept=r["kept"], partly_kept=r["partly"], broken=r["broken"],
                                   kept_amount=r["kept_amount"] or Decimal("0.00")))
    return out
