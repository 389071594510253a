"""Today's counters for the managers' live dashboard (M7), bumped by the actions that do the work.

Assignments, calls, visits and repayments call `daily_stats_bump` / `daily_stats_record_work` inside
their own transaction; the counters move with the work or not at all, and the dashboards hear of it
after commit. Counting is incremental (F() updates on one row per collector per day), never a rescan.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from accounts.models import User
from cases.models import DailyCaseWork, DailyCollectorStats
from cases.models.stats import COUNTER_FIELDS
from realtime import groups
from realtime.events import DashboardCounterChanged
from realtime.publish import publish_on_commit

AMOUNT_FIELDS: tuple[str, ...] = ("repaid_amount",)
# Dashboard columns kept outside DailyCollectorStats (counted from open reminders): deltas only.
LIVE_ONLY_FIELDS: tuple[str, ...] = ("overdue_calls", "overdue_visits", "doc_requests_waiting")


def dashboard_groups_for(*, collector_id: int) -> tuple[list[str], int | None, int | None]:
    """The dashboard groups that show this collector, with their branch and department ids."""
    row = User.objects.filter(pk=collector_id).values_list("branch_id", "department_id").first()
    branch_id, department_id = row if row else (None, None)
    to = [groups.dashboard_all()]
    if branch_id:
        to.append(groups.dashboard_branch(branch_id))
    if department_id:
        to.append(groups.dashboard_department(department_id))
    return to, branch_id, department_id


def dashboard_publish_deltas(*, collector_id: int, day: dt.date | None = None,
                             deltas: dict[str, int] | None = None,
                             amount_deltas: dict[str, Decimal] | None = None) -> None:
    """Tell the dashboards (after commit) that a collector's numbers for `day` moved.

    Emits: DashboardCounterChanged → dashboard.all, dashboard.branch.<id>, dashboard.department.<id>.
    Raises: nothing.
    """
    day = day or timezone.localdate()
    ints = {k: int(v) for k, v in (deltas or {}).items() if v}
    amounts = {k: str(v) for k, v in (amount_deltas or {}).items() if v}
    if not ints and not amounts:
        return
    to, branch_id, department_id = dashboard_groups_for(collector_id=collector_id)
    publish_on_commit(
        DashboardCounterChanged(day=day.isoformat(), collector_id=collector_id, branch_id=branch_id,
                                department_id=department_id, deltas=ints, amount_deltas=amounts or None),
        to=to,
    )


@transaction.atomic
def daily_stats_bump(*, collector_id: int, day: dt.date | None = None, **deltas: int | Decimal) -> None:
    """Add `deltas` (cases_worked, calls_made, calls_connected, visits, new_assignments, repaid_amount)
    to the collector's counters of `day` (today in Asia/Shanghai by default).

    Emits: DashboardCounterChanged → dashboard groups of the collector.
    Raises: ValueError for an unknown counter name.
    """
    unknown = set(deltas) - set(COUNTER_FIELDS) - set(AMOUNT_FIELDS)
    if unknown:
        raise ValueError(f"unknown dashboard counters: {', '.join(sorted(unknown))}")
    moves = {name: value for name, value in deltas.items() if value}
    if not moves:
        return
    day = day or timezone.localdate()
    # A take-back (a deleted record) never drives a count below zero: rows from before a counter existed.
    updates = {name: F(name) + value if value > 0 or name in AMOUNT_FIELDS else Greatest(F(name) + value, 0)
               for name, value in moves.items()}
    rows = DailyCollectorStats.objects.filter(day=day, collector_id=collector_id)
    if rows.update(**updates, updated_at=timezone.now()) == 0:
        # First bump of the day. Two transactions may get here at once: ON CONFLICT DO NOTHING lets the
        # loser wait for the winner's row and then add to it, so no increment is lost.
        DailyCollectorStats.objects.bulk_create([DailyCollectorStats(day=day, collector_id=collector_id)],
                                                ignore_conflicts=True)
        rows.update(**updates, updated_at=timezone.now())
    dashboard_publish_deltas(
        collector_id=collector_id, day=day,
        deltas={k: int(v) for k, v in moves.items() if k in COUNTER_FIELDS},
        amount_deltas={k: Decimal(v) for k, v in moves.items() if k in AMOUNT_FIELDS},
    )


@transaction.atomic
def daily_stats_record_work(*, case_id: int, collector_id: int, day: dt.date | None = None) -> bool:
    """Count `case_id` as worked today by the collector, once per case per day. True if newly counted.

    Emits: DashboardCounterChanged (cases_worked +1) when newly counted.
    Raises: nothing.
    """
    day = day or timezone.localdate()
    _, created = DailyCaseWork.objects.get_or_create(day=day, case_id=case_id,
                                                     defaults={"collector_id": collector_id})
    if created:
        daily_stats_bump(collector_id=collector_id, day=day, cases_worked=1)
    return created


@transaction.atomic
def daily_stats_unrecord_work(*, case_id: int, day: dt.date) -> bool:
    """Stop counting `case_id` as worked on `day` (its last call or visit of that day was deleted). True if it was.

    Emits: DashboardCounterChanged (cases_worked −1) for the collector it was counted for.
    Raises: nothing.
    """
    row = DailyCaseWork.objects.select_for_update().filter(day=day, case_id=case_id).first()
    if row is None:
        return False
    row.delete()
    daily_stats_bump(collector_id=row.collector_id, day=day, cases_worked=-1)
    return True
