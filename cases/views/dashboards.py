"""Managers' live dashboard (M7). Adapter only: policy, selector, render."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import User
from cases.actions.dialer import dialer_health
from cases.selectors.dashboards import can_view_dashboard, dashboard_stats_for_day


class AppRequest(HttpRequest):
    user: User


@login_required
@require_GET
def dashboard_view(request: AppRequest) -> HttpResponse:
    if not can_view_dashboard(user=request.user):
        raise PermissionDenied("实时看板仅供管理人员查看")
    dashboard = dashboard_stats_for_day()
    # 线路占用 from the dialer's last heartbeat (every 10 s); the page then follows lines.changed live.
    health = dialer_health()
    if health is not None and health.get("ari_connected"):
        dashboard.lines_in_use = int(health.get("lines_in_use") or 0)  # type: ignore[call-overload]
        dashboard.lines_total = int(health.get("lines") or 0)  # type: ignore[call-overload]
    return render(request, "dashboards/dashboard.html", {"dashboard": dashboard, "nav_active": "dashboard"})
