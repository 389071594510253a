"""Dashboard and report charts (issue 18 item 1): their data equals the tables' sums, counts calls like the
counters, and is for managers only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cases.actions.calls import call_record_create
from cases.actions.files import work_record_delete
from cases.actions.repayments import repayment_record, repayment_reverse
from cases.enums import CallDirection, CallSource, CaseStatus
from cases.models import DailyCollectorStats
from cases.selectors.charts import calls_by_hour, repayments_cumulative
from cases.selectors.reports import batch_progress_list, repayment_report
from cases.views.reports import report_chart
from performance.views.charts import dashboard_chart_data
from tests import factories as f

pytestmark = pytest.mark.django_db
D = Decimal

amounts = st.decimals(min_value=D("0.01"), max_value=D("99999.99"), places=2, allow_nan=False, allow_infinity=False)


def _month_starts(today):
    this = today.replace(day=1)
    return this, (this - dt.timedelta(days=1)).replace(day=1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.tuples(amounts, st.integers(0, 60), st.booleans()), min_size=1, max_size=8))
def test_month_chart_ends_at_the_repayment_reports_month_totals(make_case, clerk, manager, entries):
    # given: repayments over the last two months, some reversed
    today = timezone.localdate()
    for amount, days_ago, reverse_it in entries:
        case = make_case(entrusted_amount=D("200000"), status=CaseStatus.IN_PROGRESS)
        entry = repayment_record(case=case, amount=amount, repaid_on=today - dt.timedelta(days=days_ago), by=clerk)
        if reverse_it:
            repayment_reverse(repayment=entry, by=clerk, reason="冲正")
    this, last = _month_starts(today)
    # when
    data = dashboard_chart_data(user=manager, today=today)
    report = repayment_report(user=manager, period="month", by="batch", date_from=last, date_to=today)
    # then: the last point of each month's line is that month's total in the report
    per_month = {}
    for row in report.rows:
        per_month[row[0]] = per_month.get(row[0], D("0.00")) + row[3]
    summary = data["repayments"]["summary"]
    assert D(summary["this_month"]) == per_month.get(f"{this:%Y-%m}", D("0.00"))
    assert D(summary["last_month"]) == per_month.get(f"{last:%Y-%m}", D("0.00"))
    this_line = data["repayments"]["series"][0]["data"]
    assert len(this_line) == today.day
    assert D(str(this_line[-1])) == D(summary["this_month"])
    # and the report page's own chart sums to the table's total
    chart = report_chart("repayments", report)
    assert sum(D(str(v)) for v in chart["series"][0]["data"]) == report.total[3]


def test_cumulative_line_is_running_total_by_day(make_case, clerk, manager):
    # given
    today = timezone.localdate()
    this, _ = _month_starts(today)
    case = make_case(entrusted_amount=D("9000"), status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("100.00"), repaid_on=this, by=clerk)
    repayment_record(case=case, amount=D("50.50"), repaid_on=today, by=clerk, bank_ref="B2")
    # when
    line = repayments_cumulative(user=manager, month=this, until=today).cumulative
    # then
    assert line[0] == (D("150.50") if today == this else D("100.00"))
    assert line[-1] == D("150.50")
    assert line == sorted(line)


def _call(case, collector, when, direction=CallDirection.OUTBOUND, answered=True):
    return call_record_create(case=case, collector=collector, by=None, number="13912345678", direction=direction,
                              source=CallSource.DIALER, started_at=when,
                              answered_at=when + dt.timedelta(seconds=5) if answered else None,
                              ended_at=when + dt.timedelta(seconds=60))


def test_calls_by_hour_count_like_the_dashboard_counters(make_case, collector, sysadmin):
    # given: calls at 09:xx and 10:xx today (one unanswered, one inbound, one deleted) and one a week ago
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    today = timezone.localdate()
    at = lambda day, h, m: timezone.make_aware(dt.datetime.combine(day, dt.time(h, m)))  # noqa: E731
    now = timezone.now()
    if now < at(today, 10, 30):
        today = today - dt.timedelta(days=1)  # keep every call in the past
    _call(case, collector, at(today, 9, 5))
    _call(case, collector, at(today, 9, 40), answered=False)
    _call(case, collector, at(today, 10, 10), direction=CallDirection.INBOUND)
    work_record_delete(record=_call(case, collector, at(today, 10, 20)), by=sysadmin, reason="录错")
    _call(case, collector, at(today - dt.timedelta(days=7), 9, 0))
    # when
    hours = calls_by_hour(day=today)
    week_ago = calls_by_hour(day=today - dt.timedelta(days=7))
    # then
    assert (hours.made[9], hours.connected[9], hours.made[10], hours.connected[10]) == (2, 1, 0, 0)
    stats = DailyCollectorStats.objects.get(collector=collector, day=today)
    assert (sum(hours.made), sum(hours.connected)) == (stats.calls_made, stats.calls_connected)
    assert week_ago.made[9] == 1


def test_batch_chart_shows_the_batch_progress_rates(make_case, clerk, manager, collector):
    # given
    batch = f.BatchFactory(batch_no="PC-图表")
    case = f.CaseFactory(batch=batch, bank=batch.bank, collector=collector, status=CaseStatus.IN_PROGRESS,
                         entrusted_amount=D("3000.00"), balance=D("3000.00"))
    repayment_record(case=case, amount=D("1000.00"), repaid_on=timezone.localdate(), by=manager)
    # when
    data = dashboard_chart_data(user=manager, today=timezone.localdate())["batches"]
    row = next(r for r in batch_progress_list(user=manager) if r.batch_id == batch.pk)
    # then
    i = data["ids"].index(batch.pk)
    assert data["categories"][i].endswith("PC-图表")
    assert f"{data['series'][0]['data'][i]:.2f}%" == row.figures.rate == "33.33%"


def test_chart_data_is_for_managers_only(client, manager, clerk, collector):
    url = reverse("performance:dashboard-charts")
    for user, code in ((manager, 200), (clerk, 403), (collector, 403)):
        client.force_login(user)
        assert client.get(url).status_code == code
    client.force_login(manager)
    data = client.get(url).json()
    assert [s["name"] for s in data["calls"]["series"]][:2] == ["今日外呼", "今日接通"]
    assert data["calls"]["categories"][9] == "9时"


def test_dashboard_page_loads_the_vendored_echarts(manager_client):
    # when
    html = manager_client.get(reverse("cases:dashboard")).content.decode()
    # then: served from our own static files (./dev install put it there), never a CDN
    assert "/static/vendor/echarts/echarts.min.js" in html
    assert "cdn" not in html.lower()
    vendored = Path(django_settings.BASE_DIR) / "frontend" / "static" / "vendor" / "echarts" / "echarts.min.js"
    assert vendored.stat().st_size > 500_000


def test_report_page_draws_a_chart_above_the_table(make_case, clerk, clerk_client):
    # given
    case = make_case(entrusted_amount=D("5000"), status=CaseStatus.IN_PROGRESS)
    repayment_record(case=case, amount=D("1234.56"), repaid_on=timezone.localdate(), by=clerk)
    # when
    html = clerk_client.get(reverse("cases:reports") + "?kind=repayments&period=day").content.decode()
    # then
    assert html.index('data-chart-spec="report-chart-data"') < html.index("report-table")
    import json
    import re

    spec = json.loads(re.search(r'id="report-chart-data" type="application/json">(.*?)</script>', html).group(1))
    assert spec["unit"] == "元" and spec["series"][0]["data"] == [1234.56]
