"""拨打规则 (issue 15): each bank's calling window and daily caps, set by managers inside the national limits, and
the numbers currently blocked (each links to its case, where the owner clerk or a manager lifts the mark).
Adapters only."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods

from accounts.inputs import id_param
from cases.actions.call_rules import call_policy_set
from cases.exceptions import CallRulesError
from cases.models import Bank, BlockedNumber, CallPolicy
from cases.models.cases import mask_phone
from cases.models.compliance import (
    DEFAULT_MAX_ANSWERED_PER_DEBTOR,
    DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE,
    DEFAULT_MAX_UNANSWERED_PER_NUMBER,
    DEFAULT_THIRD_PARTY_AFTER_UNANSWERED,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
    LIMIT_MAX_ANSWERED_PER_DEBTOR,
    LIMIT_MAX_THIRD_PARTY_ANSWERED_PER_CASE,
    LIMIT_MAX_UNANSWERED_PER_NUMBER,
    LIMIT_THIRD_PARTY_AFTER_UNANSWERED,
    WINDOW_EARLIEST,
    WINDOW_LATEST,
)
from cases.views.cases import AppRequest


def _time(raw: str, label: str) -> dt.time:
    try:
        return dt.time.fromisoformat(raw.strip()[:5])
    except ValueError as exc:
        raise CallRulesError(f"{label}请填写为 时:分，例如 08:00") from exc


def _int(raw: str, label: str) -> int:
    if not raw.strip().isdigit() or len(raw.strip()) > 3:
        raise CallRulesError(f"{label}请填写整数")
    return int(raw.strip())


def _optional_int(raw: str, label: str) -> int | None:
    """Left out (a form or script that predates the field): the bank's current value stays."""
    return _int(raw, label) if raw.strip() else None


@login_required
@require_http_methods(["GET", "POST"])
def call_rules_view(request: AppRequest) -> HttpResponse:
    if not (request.user.is_active and request.user.is_manager):
        raise PermissionDenied("只有管理人员可以设置拨打规则")
    errors: dict[int, str] = {}
    if request.method == "POST":
        bank = get_object_or_404(Bank, pk=id_param(request.POST.get("bank", "")) or 0)
        try:
            call_policy_set(
                by=request.user, bank=bank, request=request,
                window_start=_time(request.POST.get("window_start", ""), "开始时间"),
                window_end=_time(request.POST.get("window_end", ""), "结束时间"),
                max_answered_per_debtor=_int(request.POST.get("max_answered_per_debtor", ""), "接通上限"),
                max_unanswered_per_number=_int(request.POST.get("max_unanswered_per_number", ""), "未接通上限"),
                third_party_after_unanswered=_optional_int(request.POST.get("third_party_after_unanswered", ""),
                                                           "联系第三方前本人未接通次数"),
                max_third_party_answered_per_case=_optional_int(
                    request.POST.get("max_third_party_answered_per_case", ""), "第三方接通上限"),
            )
        except CallRulesError as exc:
            errors[bank.pk] = str(exc)
        else:
            messages.success(request, f"已保存 {bank.name} 的拨打规则，下一通电话起生效（已记入审计日志）。")
            return redirect("cases:call-rules")
    policies = {p.bank_id: p for p in CallPolicy.objects.all()}
    rows = []
    for bank in Bank.objects.order_by("-is_active", "code"):
        p = policies.get(bank.pk)
        values = {"window_start": p.window_start if p else DEFAULT_WINDOW_START,
                  "window_end": p.window_end if p else DEFAULT_WINDOW_END,
                  "max_answered_per_debtor": p.max_answered_per_debtor if p else DEFAULT_MAX_ANSWERED_PER_DEBTOR,
                  "max_unanswered_per_number": (p.max_unanswered_per_number if p
                                                else DEFAULT_MAX_UNANSWERED_PER_NUMBER),
                  "third_party_after_unanswered": (p.third_party_after_unanswered if p
                                                   else DEFAULT_THIRD_PARTY_AFTER_UNANSWERED),
                  "max_third_party_answered_per_case": (p.max_third_party_answered_per_case if p
                                                        else DEFAULT_MAX_THIRD_PARTY_ANSWERED_PER_CASE)}
        rows.append({"bank": bank, "custom": p is not None, "values": values, "error": errors.get(bank.pk, "")})
    blocked = [{"b": b, "number": mask_phone(b.number)} for b in
               BlockedNumber.objects.filter(lifted_at=None).select_related("case", "created_by")[:500]]
    return render(request, "cases/call_rules.html", {
        "rows": rows, "blocked": blocked, "nav_active": "call-rules",
        "limits": {"earliest": WINDOW_EARLIEST, "latest": WINDOW_LATEST, "answered": LIMIT_MAX_ANSWERED_PER_DEBTOR,
                   "unanswered": LIMIT_MAX_UNANSWERED_PER_NUMBER, "third_after": LIMIT_THIRD_PARTY_AFTER_UNANSWERED,
                   "third_answered": LIMIT_MAX_THIRD_PARTY_ANSWERED_PER_CASE},
    }, status=400 if errors else 200)
