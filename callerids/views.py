"""外显号码池 pages (issue 17): system admins add numbers, rest and reactivate them; managers read the pool (each
number's calls, answer-rate trend and state). Thin adapters over callerids.actions and callerids.selectors."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.inputs import id_param
from accounts.models import User
from callerids.actions import caller_number_add, caller_number_reactivate, caller_number_rest
from callerids.exceptions import CallerNumberError
from callerids.models import DEFAULT_DAILY_CAP, FLAG_MIN_ATTEMPTS, FLAG_RATIO, CallerNumber
from callerids.policies import can_manage_caller_numbers, can_view_caller_numbers
from callerids.selectors import TREND_DAYS, CallerNumberRow, caller_number_calls, caller_number_row, caller_number_rows
from cases.models import Bank
from cases.models.cases import mask_phone

SPARK_W, SPARK_H = 112, 28


def sparkline(row: CallerNumberRow, width: int = SPARK_W, height: int = SPARK_H) -> str:
    """SVG polyline points of the daily answer rates (days without calls left out), 0 % at the bottom."""
    step = width / max(len(row.trend) - 1, 1)
    points = [f"{i * step:.1f},{height - 2 - (d.rate or 0) * (height - 4):.1f}"
              for i, d in enumerate(row.trend) if d.rate is not None]
    return " ".join(points)


def _viewer(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not can_view_caller_numbers(user):
        raise PermissionDenied("只有系统管理员和管理人员可以查看外显号码池。")
    return user


def _manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not can_manage_caller_numbers(user):
        raise PermissionDenied("只有系统管理员可以管理外显号码。")
    return user


@login_required
def caller_number_list_view(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    rows = caller_number_rows(now=timezone.now())
    return render(request, "callerids/number_list.html", {
        "rows": [{"row": r, "spark": sparkline(r)} for r in rows], "can_manage": can_manage_caller_numbers(user),
        "banks": Bank.objects.filter(is_active=True).order_by("code"), "default_cap": DEFAULT_DAILY_CAP,
        "default_trunk": settings.DIALER_TRUNK, "trend_days": TREND_DAYS,
        "flag_ratio": FLAG_RATIO, "flag_min": FLAG_MIN_ATTEMPTS, "spark_w": SPARK_W, "spark_h": SPARK_H,
        "nav_active": "caller-ids"})


@login_required
@require_POST
def caller_number_add_view(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    bank_id = id_param(request.POST.get("bank", ""))
    bank = get_object_or_404(Bank, pk=bank_id) if bank_id else None
    raw_cap = request.POST.get("daily_cap", "").strip()
    try:
        if not raw_cap.isdigit():
            raise CallerNumberError("每日外呼上限请填写整数")
        row = caller_number_add(by=user, number=request.POST.get("number", ""), trunk=request.POST.get("trunk", ""),
                                bank=bank, daily_cap=int(raw_cap), note=request.POST.get("note", ""),
                                request=request)
    except CallerNumberError as exc:
        messages.error(request, f"没有添加：{exc}")
    else:
        messages.success(request, f"已添加外显号码 {row.number}，即时启用（已记入审计日志）。")
    return HttpResponseRedirect(reverse("callerids:number-list"))


@login_required
def caller_number_detail_view(request: HttpRequest, number_id: int) -> HttpResponse:
    user = _viewer(request)
    number = get_object_or_404(CallerNumber.objects.select_related("bank", "created_by"), pk=number_id)
    row = caller_number_row(caller_number=number, now=timezone.now())
    calls = [{"call": c, "number": mask_phone(c.number)} for c in caller_number_calls(caller_number=number)]
    return render(request, "callerids/number_detail.html", {
        "row": row, "number": number, "spark": sparkline(row, 420, 80), "calls": calls,
        "trend": list(reversed(row.trend)), "can_manage": can_manage_caller_numbers(user), "nav_active": "caller-ids"})


@login_required
@require_POST
def caller_number_rest_view(request: HttpRequest, number_id: int) -> HttpResponse:
    user = _manager(request)
    number = get_object_or_404(CallerNumber, pk=number_id)
    try:
        caller_number_rest(by=user, caller_number=number, reason=request.POST.get("reason", ""), request=request)
    except CallerNumberError as exc:
        messages.error(request, f"没有休息：{exc}")
    else:
        messages.success(request, f"外显号码 {number.number} 已休息，不再用于外呼。")
    return HttpResponseRedirect(reverse("callerids:number-detail", args=[number.pk]))


@login_required
@require_POST
def caller_number_reactivate_view(request: HttpRequest, number_id: int) -> HttpResponse:
    user = _manager(request)
    number = get_object_or_404(CallerNumber, pk=number_id)
    try:
        caller_number_reactivate(by=user, caller_number=number, request=request)
    except CallerNumberError as exc:
        messages.error(request, f"没有恢复：{exc}")
    else:
        messages.success(request, f"外显号码 {number.number} 已恢复使用。")
    return HttpResponseRedirect(reverse("callerids:number-detail", args=[number.pk]))
