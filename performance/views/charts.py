"""Chart data of the managers' dashboard (issue 18 item 1) as JSON: the page draws it with ECharts and fetches it
again whenever its counters move. Adapter only: policy, selectors, JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import User
from cases.selectors.charts import (
    calls_by_hour,
    days_in_month,
    month_pair,
    recovery_by_open_batch,
    repayments_cumulative,
)
from cases.selectors.dashboards import can_view_dashboard
from performance.selectors.targets import month_target_total


class AppRequest(HttpRequest):
    user: User


def num(value: Decimal) -> float:
    """A Decimal for drawing only (the tables carry the exact figures); exact to the fen as a JSON number."""
    return float(value.quantize(Decimal("0.01")))


def dashboard_chart_data(*, user: User, today: dt.date) -> dict[str, object]:
    week_ago = today - dt.timedelta(days=7)
    now, then = calls_by_hour(day=today), calls_by_hour(day=week_ago)
    hours = [f"{h}时" for h in range(24)]
    last_week = f"上周{'一二三四五六日'[week_ago.weekday()]}（{week_ago:%m-%d}）"
    this_month, last_month = month_pair(today)
    current = repayments_cumulative(user=user, month=this_month, until=today)
    previous = repayments_cumulative(user=user, month=last_month)
    length = max(days_in_month(this_month), days_in_month(last_month))
    target = month_target_total(month=this_month)
    repay_series: list[dict[str, object]] = [
        {"name": f"本月（{this_month:%Y-%m}）", "data": [num(v) for v in current.cumulative]},
        {"name": f"上月（{last_month:%Y-%m}）", "data": [num(v) for v in previous.cumulative]},
    ]
    if target:
        days = days_in_month(this_month)
        repay_series.append({"name": "目标进度", "dashed": True,
                             "data": [num(target * (i + 1) / days) for i in range(days)]})
    batches = recovery_by_open_batch(user=user)
    return {
        "calls": {"type": "line", "unit": "次", "categories": hours, "series": [
            {"name": "今日外呼", "data": now.made}, {"name": "今日接通", "data": now.connected},
            {"name": f"{last_week}外呼", "data": then.made, "dashed": True},
            {"name": f"{last_week}接通", "data": then.connected, "dashed": True},
        ]},
        "repayments": {"type": "line", "unit": "元", "categories": [f"{d + 1}日" for d in range(length)],
                       "series": repay_series,
                       "summary": {"this_month": str(current.total), "last_month": str(previous.total),
                                   "target": str(target) if target else None}},
        "batches": {"type": "bar", "unit": "%", "categories": [b.label for b in batches],
                    "series": [{"name": "回收率", "data": [num(b.rate) for b in batches]}],
                    "ids": [b.batch_id for b in batches]},
    }


@login_required
@require_GET
def dashboard_charts_view(request: AppRequest) -> JsonResponse:
    if not can_view_dashboard(user=request.user):
        raise PermissionDenied("实时看板仅供管理人员查看")
    return JsonResponse(dashboard_chart_data(user=request.user, today=timezone.localdate()))
