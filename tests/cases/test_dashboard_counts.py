"""Dashboard 外呼/接通/呼入 stay consistent (issue 13 item 9, issue 18 item 5): an inbound call counts in 呼入 only,
接通 counts answered outbound calls (never more than 外呼), and a deleted call or visit leaves the counters."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.actions.calls import call_outcome_record, call_record_create
from cases.actions.files import work_record_delete
from cases.actions.visits import visit_record_create
from cases.enums import CallDirection, CallResult, CallSource, CaseStatus, VisitResult
from cases.models import DailyCaseWork, DailyCollectorStats
from cases.selectors.dashboards import DASHBOARD_COLUMNS, dashboard_stats_for_day
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_root")]


@pytest.fixture
def case(make_case, collector):
    return make_case(collector=collector, status=CaseStatus.IN_PROGRESS)


def _stats(collector):
    row = DailyCollectorStats.objects.get(collector=collector, day=timezone.localdate())
    return {"外呼": row.calls_made, "接通": row.calls_connected, "呼入": row.calls_inbound,
            "外访": row.visits, "处理案件": row.cases_worked}


def _answered_call(case, collector, direction=CallDirection.OUTBOUND, source=CallSource.DIALER, **kw):
    now = timezone.now()
    return call_record_create(case=case, collector=collector, by=None, number="13912345678", direction=direction,
                              source=source, started_at=now - dt.timedelta(minutes=2),
                              answered_at=now - dt.timedelta(minutes=1), ended_at=now, **kw)


def test_dashboard_has_an_inbound_column_beside_outbound_and_connected():
    # then
    keys = [k for k, _ in DASHBOARD_COLUMNS]
    assert keys.index("calls_made") < keys.index("calls_connected") < keys.index("calls_inbound")
    assert dict(DASHBOARD_COLUMNS)["calls_inbound"] == "呼入"


def test_inbound_answered_call_counts_in_its_own_column_not_as_connected(case, collector):
    # given
    call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                       result=CallResult.NO_ANSWER)
    call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                       result=CallResult.SELF_ANSWERED, note="不还")
    # when: the debtor calls back and the collector answers
    _answered_call(case, collector, direction=CallDirection.INBOUND)
    # then
    assert _stats(collector) | {"处理案件": 0} == {"外呼": 2, "接通": 1, "呼入": 1, "外访": 0, "处理案件": 0}


def test_outcome_on_an_unanswered_inbound_call_does_not_count_as_connected(case, collector):
    # given: an inbound dialer call the exchange reports without an answer time
    call = call_record_create(case=case, collector=collector, by=None, number="13912345678",
                              direction=CallDirection.INBOUND, source=CallSource.DIALER)
    # when
    call_outcome_record(call=call, by=collector, result=CallResult.THIRD_PARTY)
    # then
    stats = _stats(collector)
    assert (stats["外呼"], stats["接通"], stats["呼入"]) == (0, 0, 1)


def test_deleting_calls_takes_them_off_the_counters_of_their_day(case, collector, sysadmin):
    # given: the reproduction of issue 13 item 9 (3 outbound, 1 inbound answered, then one record deleted)
    kept = _answered_call(case, collector)
    call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                       result=CallResult.NO_ANSWER)
    deleted = _answered_call(case, collector)
    inbound = _answered_call(case, collector, direction=CallDirection.INBOUND)
    # when
    work_record_delete(record=deleted, by=sysadmin, reason="录错案件")
    work_record_delete(record=inbound, by=sysadmin, reason="骚扰电话")
    # then
    stats = _stats(collector)
    assert (stats["外呼"], stats["接通"], stats["呼入"]) == (2, 1, 0)
    assert stats["接通"] <= stats["外呼"]
    assert kept.deleted_at is None
    assert stats["处理案件"] == 1  # the case is still worked today through the kept calls


def test_deleting_the_only_work_of_a_case_uncounts_the_case_worked(case, collector, sysadmin):
    # given
    visit = visit_record_create(case=case, collector=collector, by=collector, visited_on=timezone.localdate(),
                                address="沈阳市和平区", result=VisitResult.NOBODY_HOME)
    assert _stats(collector)["外访"] == 1
    # when
    work_record_delete(record=visit, by=sysadmin, reason="重复录入")
    # then
    assert _stats(collector) == {"外呼": 0, "接通": 0, "呼入": 0, "外访": 0, "处理案件": 0}
    assert not DailyCaseWork.objects.filter(case=case).exists()


def test_deleting_an_old_call_moves_that_days_counters_never_below_zero(case, collector, sysadmin):
    # given: a call recorded on an earlier day whose counter row is missing (data from before the counters)
    earlier = timezone.now() - dt.timedelta(days=3)
    call = call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                              result=CallResult.NO_ANSWER, started_at=earlier)
    day = timezone.localtime(earlier).date()
    DailyCollectorStats.objects.filter(collector=collector, day=day).update(calls_made=0, cases_worked=0)
    # when
    work_record_delete(record=call, by=sysadmin, reason="录错")
    # then
    row = DailyCollectorStats.objects.get(collector=collector, day=day)
    assert (row.calls_made, row.cases_worked) == (0, 0)


def test_dashboard_shows_the_inbound_count_per_collector(case, collector):
    # given
    _answered_call(case, collector, direction=CallDirection.INBOUND)
    # when
    board = dashboard_stats_for_day()
    # then
    cells = {k: v for k, _, v, _ in board.total.cells()}
    assert (cells["calls_made"], cells["calls_connected"], cells["calls_inbound"]) == (0, 0, 1)


def test_dashboard_lines_tile_shows_lines_in_use_from_the_dialer(manager_client):
    # given: the dialer's heartbeat says 3 of 8 lines are taken
    from django.core.cache import cache

    from cases.actions.dialer import HEALTH_KEY

    cache.set(HEALTH_KEY, {"ari_connected": True, "lines": 8, "lines_in_use": 3}, 30)
    try:
        # when
        html = manager_client.get(reverse("cases:dashboard")).content.decode()
    finally:
        cache.delete(HEALTH_KEY)
    # then
    assert 'id="dash-lines">3/8<' in html


def test_dashboard_lines_tile_is_a_dash_without_a_dialer(manager_client):
    # when
    html = manager_client.get(reverse("cases:dashboard")).content.decode()
    # then
    assert 'id="dash-lines">—<' in html
    assert 'content="dashboard lines"' in html


def test_lines_board_counts_calls_like_the_dashboard(case, collector, sysadmin):
    # given
    from cases.selectors.dialer import calls_today_by_collector

    _answered_call(case, collector)
    deleted = _answered_call(case, collector)
    _answered_call(case, collector, direction=CallDirection.INBOUND)
    work_record_delete(record=deleted, by=sysadmin, reason="录错")
    # when
    made, answered, inbound = calls_today_by_collector(timezone.now())[collector.pk]
    # then
    stats = _stats(collector)
    assert (made, answered, inbound) == (stats["外呼"], stats["接通"], stats["呼入"]) == (1, 1, 1)


def test_dashboard_names_each_collector_with_a_link_to_their_work_page(manager_client, collector, other_collector):
    # when
    html = manager_client.get(reverse("cases:dashboard")).content.decode()
    # then: every collector's row opens their own work page (M3), ids not mixed up by the one-reverse table
    for person in (collector, other_collector):
        link = reverse("worklist:collector-activity", args=[person.pk])
        assert f'<a href="{link}" title="查看该业务员的通话、外访、承诺和回款">{person.display_name}</a>' in html
