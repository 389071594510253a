"""Demo data only: three months of work on the demo cases (calls, visits, promises, repayments), so the
dashboard charts, the reports, the batch progress, the rankings and the commission statements mean something
on first start (issue 18).

Written in bulk, not through the actions (thousands of rows in a second or two on SQLite): the rows are the
ones the actions would write, and the counters and roll-ups that the actions keep are then rebuilt from them
(DailyCollectorStats and DailyCaseWork here, the report roll-ups by `rollups.rebuild()` in the caller). No case
timeline entries and no realtime events are written.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from cases.enums import CallDirection, CallResult, CallSource, CaseStatus, VisitResult
from cases.models import (
    Batch,
    CallRecord,
    Case,
    DailyCaseWork,
    DailyCollectorStats,
    Repayment,
    RepaymentKind,
    VisitRecord,
)

FEN = Decimal("0.01")
CONNECTED = (CallResult.SELF_ANSWERED, CallResult.THIRD_PARTY, CallResult.PROMISE)
NOT_CONNECTED = (CallResult.NO_ANSWER, CallResult.NO_ANSWER, CallResult.BUSY, CallResult.REJECTED,
                 CallResult.POWERED_OFF)
NOTES = ("本人称近期资金紧张", "家属表示会转告", "答应月底前还一部分", "态度较好，协商分期", "称已还款，待核实")


def _at(day: dt.date, rng: random.Random, *, latest: dt.datetime) -> dt.datetime | None:
    """A working-hours moment of `day` (08:30–20:30, more in the morning), never after `latest`."""
    minutes = int(rng.triangular(8.5 * 60, 20.5 * 60, 10.5 * 60))
    when = timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60, rng.randrange(60))))
    return when if when <= latest else None


@transaction.atomic
def seed_demo_activity(*, batches: list[Batch], rng: random.Random, clerk_of: dict[int, User]) -> dict[str, int]:
    """Calls, visits, promises and repayments on the assigned cases of `batches`, from their assignment to now."""
    now = timezone.now()
    today = timezone.localdate()
    calls: list[CallRecord] = []
    visits: list[VisitRecord] = []
    repayments: list[Repayment] = []
    repaid: dict[int, Decimal] = defaultdict(lambda: Decimal("0.00"))
    cases = list(Case.objects.filter(batch__in=batches, collector__isnull=False).select_related("collector"))
    for case in cases:
        collector = case.collector
        assert collector is not None and case.assigned_at is not None
        start = timezone.localtime(case.assigned_at).date()
        field_work = collector.is_field_collector
        day = start + dt.timedelta(days=rng.randint(0, 2))
        while day <= today:
            if day.weekday() < 6 or rng.random() < 0.3:  # Saturdays too, and a few on Sundays
                when = _at(day, rng, latest=now)
                if when is not None and field_work and rng.random() < 0.35:
                    result = rng.choice((VisitResult.MET_DEBTOR, VisitResult.NOBODY_HOME, VisitResult.MET_FAMILY,
                                         VisitResult.PROMISE, VisitResult.MOVED))
                    promise = result == VisitResult.PROMISE
                    visits.append(VisitRecord(
                        case=case, collector=collector, entered_by=collector, visited_on=day,
                        address=case.home_address or "沈阳市", result=result, met_person="本人" if promise else "",
                        note=rng.choice(NOTES), promise_date=day + dt.timedelta(days=7) if promise else None,
                        promise_amount=(case.balance * Decimal("0.2")).quantize(FEN) if promise else None))
                elif when is not None:
                    inbound = rng.random() < 0.06
                    connected = inbound or rng.random() < 0.45
                    result = rng.choice(CONNECTED) if connected else rng.choice(NOT_CONNECTED)
                    promise = result == CallResult.PROMISE
                    talk = rng.randint(30, 400) if connected else 0
                    calls.append(CallRecord(
                        case=case, collector=collector, number=case.mobile or "13800000000",
                        direction=CallDirection.INBOUND if inbound else CallDirection.OUTBOUND,
                        source=CallSource.DIALER, started_at=when,
                        answered_at=when + dt.timedelta(seconds=rng.randint(5, 25)) if connected else None,
                        ended_at=when + dt.timedelta(seconds=talk + 30), duration_s=talk if connected else None,
                        result=result, note=rng.choice(NOTES) if connected else "",
                        promise_date=day + dt.timedelta(days=rng.randint(3, 15)) if promise else None,
                        promise_amount=(case.balance * Decimal("0.3")).quantize(FEN) if promise else None))
                    # A promise kept (or part of it) a few days later: the bank's notice, recorded by the clerk.
                    if promise and rng.random() < 0.7:
                        paid_on = day + dt.timedelta(days=rng.randint(1, 10))
                        left = case.entrusted_amount - repaid[case.pk]
                        share = Decimal(str(rng.choice((0.1, 0.2, 0.3, 0.5, 1.0))))
                        amount = (left * share).quantize(FEN, rounding=ROUND_HALF_UP)
                        if paid_on <= today and amount > 0:
                            recorded = timezone.make_aware(dt.datetime.combine(paid_on, dt.time(15, 0)))
                            repayments.append(Repayment(
                                case=case, amount=amount, commission=(amount * case.commission_rate).quantize(
                                    FEN, rounding=ROUND_HALF_UP), commission_rate=case.commission_rate,
                                repaid_on=paid_on, kind=RepaymentKind.NORMAL, recorded_by=clerk_of[case.bank_id],
                                collector=collector, bank_ref=f"DEMO{case.pk:05d}{len(repayments):04d}",
                                created_at=min(recorded, now)))
                            repaid[case.pk] += amount
            day += dt.timedelta(days=rng.choice((1, 2, 3, 4, 5, 6)))
    CallRecord.objects.bulk_create(calls, batch_size=500)
    VisitRecord.objects.bulk_create(visits, batch_size=500)
    # bulk_create stamps auto_now_add fields (on these very objects): give each its recording time afterwards.
    recorded_at = [r.created_at for r in repayments]
    Repayment.objects.bulk_create(repayments, batch_size=500)
    for row, when in zip(repayments, recorded_at, strict=True):
        row.created_at = when
    Repayment.objects.bulk_update(repayments, ["created_at"], batch_size=500)
    _settle_cases(repaid)
    _rebuild_counters(batches)
    return {"calls": len(calls), "visits": len(visits), "repayments": len(repayments)}


def _settle_cases(repaid: dict[int, Decimal]) -> None:
    changed = []
    for case in Case.objects.filter(pk__in=list(repaid)):
        case.repaid_amount = repaid[case.pk]
        case.balance = case.entrusted_amount - case.repaid_amount
        if case.balance <= 0:
            case.status = CaseStatus.SETTLED
        elif case.status == CaseStatus.NOT_STARTED:
            case.status = CaseStatus.IN_PROGRESS
        changed.append(case)
    Case.objects.bulk_update(changed, ["repaid_amount", "balance", "status"], batch_size=500)
    # A case with a call or visit is being worked.
    Case.objects.filter(status=CaseStatus.NOT_STARTED).filter(calls__isnull=False).update(
        status=CaseStatus.IN_PROGRESS)


def _rebuild_counters(batches: list[Batch]) -> None:
    """The dashboard's daily counters, as the actions would have bumped them, from the rows just written."""
    stats: dict[tuple[dt.date, int], dict[str, object]] = defaultdict(
        lambda: {"calls_made": 0, "calls_connected": 0, "calls_inbound": 0, "visits": 0,
                 "repaid_amount": Decimal("0.00")})
    worked: dict[tuple[dt.date, int], int] = {}
    for c in CallRecord.objects.filter(case__batch__in=batches, collector__isnull=False, deleted_at=None):
        day = timezone.localtime(c.started_at).date()
        row = stats[(day, c.collector_id)]  # type: ignore[index]
        if c.direction == CallDirection.INBOUND:
            row["calls_inbound"] += 1  # type: ignore[operator]
        else:
            row["calls_made"] += 1  # type: ignore[operator]
            if c.answered_at is not None or c.result in CONNECTED:
                row["calls_connected"] += 1  # type: ignore[operator]
        worked.setdefault((day, c.case_id), c.collector_id)  # type: ignore[arg-type]
    for v in VisitRecord.objects.filter(case__batch__in=batches, deleted_at=None):
        stats[(v.visited_on, v.collector_id)]["visits"] += 1  # type: ignore[operator]
        worked.setdefault((v.visited_on, v.case_id), v.collector_id)
    for r in Repayment.objects.filter(case__batch__in=batches, collector__isnull=False):
        day = timezone.localtime(r.created_at).date()
        stats[(day, r.collector_id)]["repaid_amount"] += r.amount  # type: ignore[index, operator]
    per_worked: dict[tuple[dt.date, int], int] = defaultdict(int)
    for (day, _case), collector_id in worked.items():
        per_worked[(day, collector_id)] += 1
    DailyCaseWork.objects.bulk_create([DailyCaseWork(day=day, case_id=case_id, collector_id=collector_id)
                                       for (day, case_id), collector_id in worked.items()],
                                      batch_size=1000, ignore_conflicts=True)
    DailyCollectorStats.objects.filter(collector_id__in={k[1] for k in stats}).delete()
    DailyCollectorStats.objects.bulk_create([
        DailyCollectorStats(day=day, collector_id=collector_id, cases_worked=per_worked.get((day, collector_id), 0),
                            **values)  # type: ignore[arg-type]
        for (day, collector_id), values in stats.items()], batch_size=1000)
