"""What every case-work action shares: the open-case rule, the promise rule, 未开始 → 进行中, and the dashboard
counters.

Must not import views or `realtime.consumers`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from cases import history
from cases.actions.stats import daily_stats_bump, daily_stats_record_work, daily_stats_unrecord_work
from cases.enums import CONNECTED_CALL_RESULTS, CallDirection, CaseStatus
from cases.exceptions import CaseClosedForWorkError, PromiseDateTooEarlyError, PromiseDetailsRequiredError
from cases.models import CallRecord, Case, VisitRecord


def ensure_open_for_work(case: Case) -> None:
    """Raises: CaseClosedForWorkError when the case is settled or returned."""
    if not case.is_open:
        raise CaseClosedForWorkError(case.case_no, case.get_status_display())


def checked_promise(*, promised: bool, promise_date: dt.date | None, promise_amount: Decimal | None,
                    work_day: dt.date) -> tuple[dt.date | None, Decimal | None]:
    """The promise a call or visit records: with a 承诺还款 result its date (not before the day of the work) and
    an amount above 0; with any other result none.

    Raises: PromiseDetailsRequiredError, PromiseDateTooEarlyError.
    """
    if not promised:
        return None, None
    if promise_date is None or promise_amount is None or promise_amount <= 0:
        raise PromiseDetailsRequiredError()
    if promise_date < work_day:
        raise PromiseDateTooEarlyError()
    return promise_date, promise_amount


def mark_work_started(*, case: Case, actor: User | None, reason: str) -> bool:
    """P3/M1: the first call or visit on a 未开始 case makes it 进行中. True if the status moved.

    The UPDATE is conditional on the status still being 未开始, so two first calls at once move it once.
    """
    moved = Case.objects.filter(pk=case.pk, status=CaseStatus.NOT_STARTED).update(
        status=CaseStatus.IN_PROGRESS, status_changed_at=timezone.now(), updated_at=timezone.now())
    if moved:
        case.status = CaseStatus.IN_PROGRESS
        history.case_work_started(case=case, actor=actor, reason=reason)
    return bool(moved)


def count_work(*, case: Case | None, collector: User | None, day: dt.date, **deltas: int) -> None:
    """Bump the collector's dashboard counters (M7) for `day` and count the case as worked that day."""
    if collector is None:
        return
    daily_stats_bump(collector_id=collector.pk, day=day, **deltas)
    if case is not None:
        daily_stats_record_work(case_id=case.pk, collector_id=collector.pk, day=day)


def call_counters(call: CallRecord) -> dict[str, int]:
    """The dashboard counters (M7) one call moves: 外呼 and 接通 for an outbound call, 呼入 for an inbound one, so
    接通 never exceeds 外呼 (issue 13 item 9: an answered inbound call used to count as 接通 without 外呼)."""
    if call.direction == CallDirection.INBOUND:
        return {"calls_inbound": 1}
    connected = call.answered_at is not None or call.result in CONNECTED_CALL_RESULTS
    return {"calls_made": 1, "calls_connected": 1 if connected else 0}


def uncount_work(*, record: CallRecord | VisitRecord) -> None:
    """Take a deleted call or visit off its day's dashboard counters (C15: a deleted record is not counted), and
    the case off that day's 处理案件 when nothing else of it is left that day."""
    if record.collector_id is None:
        return
    if isinstance(record, CallRecord):
        day = timezone.localtime(record.started_at).date()
        deltas = {name: -n for name, n in call_counters(record).items()}
    else:
        day, deltas = record.visited_on, {"visits": -1}
    daily_stats_bump(collector_id=record.collector_id, day=day, **deltas)
    if record.case_id is None:
        return
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    still = (CallRecord.objects.filter(case_id=record.case_id, deleted_at=None, collector__isnull=False,
                                       started_at__gte=start, started_at__lt=start + dt.timedelta(days=1)).exists()
             or VisitRecord.objects.filter(case_id=record.case_id, deleted_at=None, visited_on=day).exists())
    if not still:
        daily_stats_unrecord_work(case_id=record.case_id, day=day)
