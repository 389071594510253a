"""Return and retention pages (C9, C10, P10): the due list, single/bulk returns, retentions, requests."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.inputs import id_param
from cases.actions.returns import (
    case_retain,
    case_return,
    cases_return_bulk,
    retention_request_create,
    retention_request_decide,
)
from cases.exceptions import ReturnError
from cases.models import Batch
from cases.policies import (
    access_case,
    can_confirm_return,
    can_request_retention,
    can_view_returns,
    closed_case_refusal,
)
from cases.selectors.banks import bank_list_for_user
from cases.selectors.returns import (
    case_list_due_for_return,
    retention_request_get_for_clerk,
    retention_request_list_for_case,
    retention_request_list_pending_for_clerk,
)
from cases.views.cases import AppRequest

DAY_CHOICES = (7, 15, 30, 60)
LIST_LIMIT = 500


def _int(raw: str | None) -> int | None:
    return id_param(raw)


def _back(request: AppRequest, default: str) -> HttpResponse:
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return redirect(nxt)
    return redirect(default)


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
    return render(request, "money/return_list.html", {
        "cases": cases, "total": qs.count(), "limit": LIST_LIMIT, "days": days, "day_choices": DAY_CHOICES,
        "banks": banks, "batches": batches, "bank_id": bank_id, "batch_id": batch_id, "pending": pending,
        "can_confirm": request.user.is_clerk,
    })


@login_required
@require_POST
def case_return_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_confirm_return(user=request.user, case=case):
        raise PermissionDenied
    try:
        case_return(case=case, by=request.user)
        messages.success(request, f"{case.case_no} 已确认退案")
    except ReturnError as exc:
        messages.error(request, str(exc))
    return _back(request, "cases:return-list")


@login_required
@require_POST
def cases_return_bulk_view(request: AppRequest) -> HttpResponse:
    if not can_view_returns(user=request.user) or not request.user.is_clerk:
        raise PermissionDenied
    ids = [int(v) for v in request.POST.getlist("case_ids") if v.isdigit()]
    if not ids:
        messages.error(request, "请勾选要退案的委案")
        return _back(request, "cases:return-list")
    chosen = []
    for case_id in ids[:LIST_LIMIT]:
        try:
            case = access_case(user=request.user, case_id=case_id)
        except Http404:
            continue
        if can_confirm_return(user=request.user, case=case):
            chosen.append(case)
    done, problems = cases_return_bulk(cases=chosen, by=request.user)
    messages.success(request, f"已确认退案 {done} 件")
    for problem in problems[:20]:
        messages.error(request, problem)
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
    return render(request, "money/_return_panel.html", {
        "case": case, "requests": retention_request_list_for_case(case=case),
        "can_confirm": can_confirm_return(user=request.user, case=case),
        "can_request": can_request_retention(user=request.user, case=case),
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
