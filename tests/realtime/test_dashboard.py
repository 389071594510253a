from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import close_old_connections, connection

from cases.actions.stats import daily_stats_bump, daily_stats_record_work
from cases.models import DailyCaseWork, DailyCollectorStats
from cases.selectors.dashboards import dashboard_stats_for_day
from realtime import groups
from realtime.events import DashboardCounterChanged
from tests import factories as f

DAY = dt.date(2026, 11, 29)


@pytest.mark.django_db
def test_daily_stats_bump_creates_then_increments(collector):
    # given / when
    daily_stats_bump(collector_id=collector.pk, day=DAY, calls_made=1)
    daily_stats_bump(collector_id=collector.pk, day=DAY, calls_made=1, calls_connected=1,
                     repaid_amount=Decimal("100.50"))
    # then
    row = DailyCollectorStats.objects.get(day=DAY, collector=collector)
    assert (row.calls_made, row.calls_connected, row.repaid_amount) == (2, 1, Decimal("100.50"))


@pytest.mark.django_db
def test_daily_stats_bump_publishes_deltas_to_dashboard_groups(collector, published,
                                                               django_capture_on_commit_callbacks):
    # given / when
    with django_capture_on_commit_callbacks(execute=True):
        daily_stats_bump(collector_id=collector.pk, day=DAY, visits=1, repaid_amount=Decimal("20.00"))
    # then
    expected = DashboardCounterChanged(day="2026-11-29", collector_id=collector.pk, branch_id=collector.branch_id,
                                       department_id=collector.department_id, deltas={"visits": 1},
                                       amount_deltas={"repaid_amount": "20.00"})
    assert published.sent_to(groups.dashboard_all()) == [expected]
    assert published.sent_to(groups.dashboard_branch(collector.branch_id)) == [expected]
    assert published.sent_to(groups.dashboard_department(collector.department_id)) == [expected]


@pytest.mark.django_db
def test_daily_stats_bump_publishes_nothing_when_rolled_back(collector, published,
                                                             django_capture_on_commit_callbacks):
    # given / when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        daily_stats_bump(collector_id=collector.pk, day=DAY, calls_made=0)
    # then
    assert callbacks == []
    assert published.deliveries == []


@pytest.mark.django_db
def test_daily_stats_bump_refuses_unknown_counter(collector):
    # given / when / then
    with pytest.raises(ValueError, match="unknown dashboard counters"):
        daily_stats_bump(collector_id=collector.pk, day=DAY, coffee=1)


@pytest.mark.django_db
def test_daily_stats_record_work_counts_a_case_once_per_day(collector, make_case):
    # given
    case = make_case(collector=collector)
    # when
    first = daily_stats_record_work(case_id=case.pk, collector_id=collector.pk, day=DAY)
    again = daily_stats_record_work(case_id=case.pk, collector_id=collector.pk, day=DAY)
    next_day = daily_stats_record_work(case_id=case.pk, collector_id=collector.pk, day=DAY + dt.timedelta(days=1))
    # then
    assert (first, again, next_day) == (True, False, True)
    assert DailyCollectorStats.objects.get(day=DAY, collector=collector).cases_worked == 1
    assert DailyCaseWork.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_daily_stats_bump_loses_no_increment_under_concurrency(collector):
    # given
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; concurrent bumps are exercised on PostgreSQL")
    barrier = threading.Barrier(8)
    errors = []

    def bump():
        try:
            barrier.wait()
            for _ in range(5):
                daily_stats_bump(collector_id=collector.pk, day=DAY, calls_made=1)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    # when: eight workers bump the same, not yet existing, row at once
    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # then
    assert errors == []
    assert DailyCollectorStats.objects.get(day=DAY, collector=collector).calls_made == 40


@pytest.mark.django_db
def test_dashboard_stats_for_day_sums_collectors_into_departments_and_branches():
    # given
    dept = f.DepartmentFactory(name="催收一部")
    a = f.CollectorFactory(department=dept, full_name="甲")
    b = f.CollectorFactory(department=dept, full_name="乙")
    other = f.CollectorFactory(full_name="丙")
    daily_stats_bump(collector_id=a.pk, day=DAY, calls_made=3, repaid_amount=Decimal("10.00"))
    daily_stats_bump(collector_id=b.pk, day=DAY, calls_made=2, repaid_amount=Decimal("5.50"))
    daily_stats_bump(collector_id=other.pk, day=DAY, calls_made=7)
    daily_stats_bump(collector_id=a.pk, day=DAY - dt.timedelta(days=1), calls_made=100)
    # when
    board = dashboard_stats_for_day(day=DAY)
    # then
    assert board.total.values["calls_made"] == 12
    assert board.total.repaid_amount == Decimal("15.50")
    [block] = [x for x in board.branches if x.id == dept.branch_id]
    assert block.counters.values["calls_made"] == 5
    assert sorted(c.name for c in block.departments[0].collectors) == sorted(["甲", "乙"])
    assert board.lines_in_use is None


@pytest.mark.django_db
def test_dashboard_counts_document_requests_waiting(collector, clerk, make_case):
    # given: a request of the collector's that waits for the clerk
    from cases.models import DocumentRequest

    case = make_case(collector=collector)
    DocumentRequest.objects.create(case=case, requested_by=collector, assigned_clerk=clerk, reason="需要身份证复印件")
    # when
    board = dashboard_stats_for_day(day=DAY)
    # then
    assert board.total.values["doc_requests_waiting"] == 1

