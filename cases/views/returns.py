"""Return and retention pages (C9, C10, P10): the due list, single/bulk returns, retentions, requests."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.inputs import id_param
from cases.actions.returns import (
    case_retain,
    case_return,
    case_return_undo,
    cases_retain_bulk,
    cases_return_bulk,
    retention_request_create,
    retention_request_decide,
)
from cases.exceptions import ReturnError
from cases.models import Batch, Case
from cases.policies import (
    access_case,
    can_confirm_return,
    can_request_retention,
    can_view_returns,
    closed_case_refusal,
    return_undo_deadline,
    return_undo_refusal,
)
from cases.selectors.banks import bank_list_for_user
from cases.selectors.returns import (
    case_list_due_for_return,
    case_list_for_return_confirm,
    case_list_recently_returned,
    retention_request_get_for_clerk,
    retention_request_list_for_case,
    retention_request_list_pending_for_clerk,
)
from cases.views.cases import AppRequest

DAY_CHOICES = (7, 15, 30, 60)
LIST_LIMIT = 500


def _int(raw: str | None) -> int | None:
    return id_param(raw)


def _next(request: AppRequest) -> str:
    """Where to go back to: the page that asked (a same-site path), or "" for the default."""
    nxt = request.POST.get("next", "") or request.GET.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return ""


def _back(request: AppRequest, default: str) -> HttpResponse:
    return redirect(_next(request) or default)


def _undo_note() -> str:
    return f"{settings.RETURN_UNDO_DAYS} 天内可由负责内勤或管理人员撤销（填写原因）"


def _confirm_page(request: AppRequest, cases: list[Case], *, action: str) -> HttpResponse:
    """C9: before a return, what it will do to each case, and one more click to confirm."""
    collectors = sorted({c.collector.display_name for c in cases if c.collector is not None})
    return render(request, "money/return_confirm.html", {
        "cases": cases, "action": action, "next": _next(request) or reverse("cases:return-list"),
        "collectors": collectors, "undo_days": settings.RETURN_UNDO_DAYS,
        "balance_total": sum((c.balance for c in cases), Decimal("0.00")),
        "pending_total": sum(c.pending_requests for c in cases),  # type: ignore[attr-defined]
        "nav_active": "returns",
    })


@login_required
@require_GET
def return_list_view(request: AppRequest) -> HttpResponse:
    if not can_view_returns(user=request.user):
        raise PermissionDenied
    days = _int(request.GET.get("days")) or 30
    bank_id, batch_id = _int(request.GET.get("bank")), _int(request.GET.get("batch"))
    qs = case_list_due_for_return(user=request.user, days=min(days, 366), bank_id=bank_id, batch_id=batch_id)
    banks = bank_list_for_user(user=request.user)
    batches = Batch.objects.filter(bank__in=banks).order_by("-id")[:200]
    cases = list(qs[:LIST_LIMIT])
    today = timezone.localdate()
    for case in cases:
        case.days_left = (case.return_date - today).days  # type: ignore[attr-defined]
    pending = retention_request_list_pending_for_clerk(clerk=request.user) if request.user.is_clerk else []
    recent = list(case_list_recently_returned(user=request.user)[:LIST_LIMIT])
    for case in recent:
        case.undo_until = return_undo_deadline(case=case)  # type: ignore[attr-defined]
    return render(request, "money/return_list.html", {
        "cases": cases, "total": qs.count(), "limit": LIST_LIMIT, "days": days, "day_choices": DAY_CHOICES,
        "banks": banks, "batches": batches, "bank_id": bank_id, "batch_id": batch_id, "pending": pending,
        "can_confirm": request.user.is_clerk, "recent": recent, "undo_days": settings.RETURN_UNDO_DAYS,
        "nav_active": "returns",
    })


def _chosen(request: AppRequest) -> list[Case]:
    """The ticked cases this clerk may return or retain (others are left out silently: not theirs)."""
    ids = [int(v) for v in request.POST.getlist("case_ids") if v.isdigit()][:LIST_LIMIT]
    chosen = []
    for case_id in ids:
        try:
            case = access_case(user=request.user, case_id=case_id)
        except Http404:
            continue
        if can_confirm_return(user=request.user, case=case):
            chosen.append(case)
    return chosen


def _returned_message(request: AppRequest, done: int, problems: list[str]) -> None:
    if done:
        messages.success(request, f"已确认退案 {done} 件；{_undo_note()}")
    for problem in problems[:20]:
        messages.error(request, problem)


@login_required
@require_http_methods(["GET", "POST"])
def case_return_view(request: AppRequest, case_id: int) -> HttpResponse:
    """GET, or POST without `confirm`: what the return will do; POST with confirm=1: return the case."""
    case = access_case(user=request.user, case_id=case_id)
    if not can_confirm_return(user=request.user, case=case):
        raise PermissionDenied
    if request.method == "GET" or request.POST.get("confirm") != "1":
        rows = list(case_list_for_return_confirm(user=request.user, case_ids=[case.pk]))
        if not rows:
            messages.error(request, f"{case.case_no} 状态为“{case.get_status_display()}”，不能退案")
            return _back(request, "cases:return-list")
        return _confirm_page(request, rows, action=reverse("cases:case-return", args=[case.pk]))
    try:
        case_return(case=case, by=request.user)
        _returned_message(request, 1, [])
    except ReturnError as exc:
        messages.error(request, str(exc))
    return _back(request, "cases:return-list")


@login_required
@require_POST
def cases_return_bulk_view(request: AppRequest) -> HttpResponse:
    """POST the ticked cases: first the confirmation page listing them; POST again with confirm=1 to return."""
    if not can_view_returns(user=request.user) or not request.user.is_clerk:
        raise PermissionDenied
    chosen = _chosen(request)
    if not chosen:
        messages.error(request, "请勾选要退案的委案")
        return _back(request, "cases:return-list")
    if request.POST.get("confirm") != "1":
        rows = list(case_list_for_return_confirm(user=request.user, case_ids=[c.pk for c in chosen]))
        if not rows:
            messages.error(request, "勾选的委案都已不在处理中，不能退案")
            return _back(request, "cases:return-list")
        return _confirm_page(request, rows, action=reverse("cases:case-return-bulk"))
    done, problems = cases_return_bulk(cases=chosen, by=request.user)
    _returned_message(request, done, problems)
    return _back(request, "cases:return-list")


@login_required
@require_POST
def cases_retain_bulk_view(request: AppRequest) -> HttpResponse:
    """留案 for every ticked case: one month more from each one's current return date."""
    if not can_view_returns(user=request.user) or not request.user.is_clerk:
        raise PermissionDenied
    chosen = _chosen(request)
    if not chosen:
        messages.error(request, "请勾选要留案的委案")
        return _back(request, "cases:return-list")
    done, problems = cases_retain_bulk(cases=chosen, by=request.user, reason=request.POST.get("reason", ""))
    if done:
        messages.success(request, f"已留案 {done} 件，退案日期各自顺延一个月")
    for problem in problems[:20]:
        messages.error(request, problem)
    return _back(request, "cases:return-list")


@login_required
@require_POST
def case_return_undo_view(request: AppRequest, case_id: int) -> HttpResponse:
    """C9: the owner clerk or a manager reopens a case returned by mistake, with a reason."""
    case = access_case(user=request.user, case_id=case_id)
    if not (request.user.is_clerk or request.user.is_manager):
        raise PermissionDenied
    try:
        case_return_undo(case=case, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"{case.case_no} 已撤销退案，恢复为“{case.get_status_display()}”")
    except ReturnError as exc:
        messages.error(request, str(exc))
    return _back(request, "cases:return-list")


@login_required
@require_POST
def case_retain_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_confirm_return(user=request.user, case=case):
        raise PermissionDenied
    try:
        case_retain(case=case, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, f"{case.case_no} 已留案，退案日期延至 {case.return_date:%Y-%m-%d}")
    except ReturnError as exc:
        messages.error(request, str(exc))
    return _back(request, "cases:return-list")


@login_required
@require_GET
def return_panel_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    undo_refusal = return_undo_refusal(user=request.user, case=case)
    return render(request, "money/_return_panel.html", {
        "case": case, "requests": retention_request_list_for_case(case=case),
        "can_confirm": can_confirm_return(user=request.user, case=case),
        "can_request": can_request_retention(user=request.user, case=case),
        "can_undo": not undo_refusal, "undo_refusal": undo_refusal, "undo_until": return_undo_deadline(case=case),
        "undo_days": settings.RETURN_UNDO_DAYS,
        "deciders": request.user.is_clerk or request.user.is_manager,
    })


@login_required
@require_POST
def retention_request_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_request_retention(user=request.user, case=case):
        raise PermissionDenied(closed_case_refusal(user=request.user, case=case)
                               or "只有负责该委案的业务员可以申请留案")
    try:
        retention_request_create(case=case, by=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "留案申请已提交，等待内勤审批")
    except ReturnError as exc:
        messages.error(request, str(exc))
    return redirect("cases:case-detail", case_id=case.pk)


@login_required
@require_POST
def retention_decide_view(request: AppRequest, request_id: int) -> HttpResponse:
    if not request.user.is_clerk:
        raise PermissionDenied
    retention = retention_request_get_for_clerk(clerk=request.user, request_id=request_id)
    if retention is None:
        raise Http404("留案申请不存在或已处理")
    decision = request.POST.get("decision", "")
    if decision not in ("approve", "decline"):
        messages.error(request, "请选择同意或拒绝")
        return _back(request, "cases:return-list")
    try:
        retention_request_decide(request=retention, by=request.user, approve=decision == "approve",
                                 note=request.POST.get("note", ""))
        verdict = "同意" if decision == "approve" else "拒绝"
        messages.success(request, f"已{verdict} {retention.case.case_no} 的留案申请")
    except ReturnError as exc:
        messages.error(request, str(exc))
    return _back(request, "cases:return-list")
