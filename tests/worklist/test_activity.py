"""M3 (issue 16 item 5): a collector's calls, visits, promises and repayments across their cases, filtered by date
and kind, exported; scoped: a clerk sees only the work on their banks' cases."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEntry
from cases.actions.calls import call_record_create
from cases.actions.repayments import repayment_record
from cases.actions.visits import visit_record_create
from cases.enums import CaseStatus

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def work(make_case, collector, clerk, other_clerk, other_bank):
    """The collector's work on a case of the clerk's bank and on one of another bank."""
    mine = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="甲本行",
                     entrust_date=dt.date(2026, 9, 1), return_date=dt.date(2027, 1, 31))
    theirs = make_case(bank=other_bank, collector=collector, owner_clerk=other_clerk, status=CaseStatus.IN_PROGRESS,
                       debtor_name="乙他行", entrust_date=dt.date(2026, 9, 1), return_date=dt.date(2027, 1, 31))
    for case in (mine, theirs):
        call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="promise",
                           started_at=NOW - dt.timedelta(days=2),
                           promise_date=dt.date(2026, 11, 25), promise_amount=Decimal("300.00"))
        visit_record_create(case=case, collector=collector, by=collector, visited_on=dt.date(2026, 11, 19),
                            address="沈阳市", result="nobody_home")
    repayment_record(case=mine, amount=Decimal("120.00"), repaid_on=dt.date(2026, 11, 19), by=clerk)
    repayment_record(case=theirs, amount=Decimal("80.00"), repaid_on=dt.date(2026, 11, 19), by=other_clerk)
    # old work, outside the default 30 days
    call_record_create(case=mine, collector=collector, number="13800000000", by=collector, result="busy",
                       started_at=NOW - dt.timedelta(days=45))
    return mine, theirs


def url(collector, **q):
    base = reverse("worklist:collector-activity", args=[collector.pk])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in q.items()) if q else "")


@pytest.mark.django_db
def test_manager_sees_all_the_collectors_work_of_the_last_30_days(work, collector, manager_client):
    # when
    page = manager_client.get(url(collector)).content.decode()
    # then
    mine, theirs = work
    assert mine.case_no in page and theirs.case_no in page
    assert page.count('data-kind="call"') == 2      # the 45-day-old call is outside the default range
    assert page.count('data-kind="visit"') == 2
    assert page.count('data-kind="promise"') == 2
    assert page.count('data-kind="repayment"') == 2
    assert "¥200.00" in page and "¥600.00" in page  # repaid, promised


@pytest.mark.django_db
def test_clerk_sees_only_the_work_on_their_banks_cases(work, collector, clerk_client):
    # when
    page = clerk_client.get(url(collector)).content.decode()
    # then
    mine, theirs = work
    assert mine.case_no in page
    assert theirs.case_no not in page and "乙他行" not in page
    assert page.count('data-kind="call"') == 1
    assert "仅显示您负责银行的案件" in page


@pytest.mark.django_db
def test_collectors_see_only_their_own_work(work, collector, other_collector, collector_client):
    assert collector_client.get(url(collector)).status_code == 200
    assert collector_client.get(url(other_collector)).status_code == 403


@pytest.mark.django_db
def test_filter_by_kind_and_date(work, collector, manager_client):
    # when
    calls = manager_client.get(url(collector, kind="call", date_from="2026-10-01", date_to="2026-11-20"))
    visits = manager_client.get(url(collector, kind="visit", date_from="2026-11-20", date_to="2026-11-20"))
    # then
    assert calls.content.decode().count('data-kind="call"') == 3
    assert 'data-kind="visit"' not in calls.content.decode()
    assert "这段时间没有工作记录" in visits.content.decode()


@pytest.mark.django_db
def test_bad_dates_are_told_not_a_server_error(work, collector, manager_client):
    # when
    response = manager_client.get(url(collector, date_from="2026-11-20", date_to="2026-11-01"))
    far = manager_client.get(url(collector, date_from="0001-01-01", date_to="9999-12-31"))
    # then
    assert response.status_code == 200 and "结束日期不能早于开始日期" in response.content.decode()
    assert far.status_code == 200 and "日期超出范围" in far.content.decode()


@pytest.mark.django_db
def test_export_is_scoped_and_audited(work, collector, clerk, clerk_client):
    # when
    response = clerk_client.get(reverse("worklist:collector-activity-export", args=[collector.pk]))
    # then
    body = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(body)).active
    rows = list(ws.iter_rows(min_row=3, values_only=True))
    mine, theirs = work
    assert {r[2] for r in rows} == {mine.case_no}
    assert sorted(r[1] for r in rows) == ["回款", "外访", "承诺还款", "电话"]
    entry = AuditEntry.objects.get(object_type="collector_activity")
    assert entry.actor == clerk and "共 4 行" in entry.summary


# --- 承诺还款统计 ------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_promise_stats_page_is_scoped_and_grouped(work, manager_client, clerk_client):
    # when
    boss = manager_client.get(reverse("worklist:promise-stats") + "?group=collector&period=month").content.decode()
    desk = clerk_client.get(reverse("worklist:promise-stats") + "?group=batch&period=day").content.decode()
    # then: the manager counts both promises (¥600.00); the clerk only their bank's, by batch and day
    assert "王催收" in boss and "600.00" in boss and "2026-11" in boss
    mine, theirs = work
    assert mine.batch.batch_no in desk and theirs.batch.batch_no not in desk
    assert "2026-11-18" in desk and "300.00" in desk and "600.00" not in desk


@pytest.mark.django_db
def test_promise_stats_page_tells_bad_dates(manager_client):
    response = manager_client.get(reverse("worklist:promise-stats") + "?date_from=9999-12-31&date_to=0001-01-01")
    assert response.status_code == 200
    assert "日期超出范围" in response.content.decode()
