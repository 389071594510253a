"""提成: schemes (managers), monthly statements (managers approve and lock; a collector sees their own), .xlsx.
Adapters only. A collector's pages show the rate the agency pays them, never the bank's commission (P7)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from accounts.selectors import collector_list
from cases.documents.workbook import safe_cell
from cases.models import Bank, Batch
from performance.actions.commission import scheme_create, scheme_end, statement_approve
from performance.exceptions import CommissionError
from performance.models import CommissionScheme, SchemeKind
from performance.selectors.commission import (
    Statement,
    can_manage_commission,
    can_view_statement_of,
    can_view_statements,
    percent,
    scheme_list,
    statement_for,
    statement_summaries,
)
from performance.views.common import AppRequest, month_links, month_param

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(request: AppRequest, wb: Workbook, name: str, summary: str) -> HttpResponse:
    out = io.BytesIO()
    wb.save(out)
    audit_record(actor=request.user, action=AuditAction.EXPORT, object_type="CollectorStatement", summary=summary,
                 request=request, detail=dict(request.GET.items()))
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response


@login_required
@require_GET
def statement_list_view(request: AppRequest) -> HttpResponse:
    if not can_view_statements(request.user):
        if request.user.is_collector:
            return redirect(reverse("performance:statement-mine") + f"?month={request.GET.get('month', '')}")
        raise PermissionDenied("提成表仅供管理人员查看")
    month = month_param(request.GET.get("month"))
    rows = statement_summaries(month=month)
    if request.GET.get("format") == "xlsx":
        wb = Workbook()
        ws = wb.active
        ws.title = f"{month:%Y-%m} 提成汇总"
        ws.append(["业务员", "部门", "案件数", "回款笔数", "回收金额", "其中冲正", "提成金额", "状态"])
        for r in rows:
            ws.append([safe_cell(r.name), safe_cell(r.department), r.cases, r.entries, r.recovered, r.reversals,
                       r.commission, "已审批锁定" if r.locked else "未审批"])
        return _xlsx(request, wb, f"提成汇总-{month:%Y-%m}.xlsx", f"导出 {month:%Y年%m月} 提成汇总")
    totals = {k: sum((getattr(r, k) for r in rows), Decimal("0.00")) for k in ("recovered", "reversals", "commission")}
    return render(request, "performance/statement_list.html", {
        "rows": rows, "totals": totals, "month": month, "links": month_links(month),
        "can_edit": can_manage_commission(request.user), "show_commission_tabs": True, "nav_active": "commission"})


def _statement_page(request: AppRequest, collector_id: int, *, mine: bool) -> HttpResponse:
    if not can_view_statement_of(request.user, collector_id):
        raise Http404
    collector = get_object_or_404(User, pk=collector_id)
    month = month_param(request.GET.get("month"))
    st: Statement = statement_for(collector_id=collector.pk, month=month)
    if request.GET.get("format") == "xlsx":
        wb = Workbook()
        ws = wb.active
        ws.title = f"{month:%Y-%m} 提成表"
        ws.append([f"{st.collector_name} {month:%Y年%m月} 提成表", "已审批锁定" if st.locked else "未审批（草稿）"])
        ws.append(["案件数", st.cases, "回款笔数", st.entries, "回收金额", st.recovered, "其中冲正", st.reversals,
                   "提成金额", st.commission])
        ws.append([])
        ws.append(["还款日期", "案件编号", "客户姓名", "类型", "提成方案", "提成比例", "金额", "提成"])
        for line in st.lines:
            ws.append([line.repaid_on, safe_cell(line.case_no), safe_cell(line.debtor_name), line.kind,
                       safe_cell(line.scheme_name), percent(line.rate), line.amount, line.commission])
        return _xlsx(request, wb, f"提成表-{st.collector_name}-{month:%Y-%m}.xlsx",
                     f"导出 {st.collector_name} {month:%Y年%m月} 提成表")
    return render(request, "performance/statement_detail.html", {
        "st": st, "collector": collector, "month": month, "links": month_links(month), "mine": mine,
        "can_approve": can_manage_commission(request.user) and not st.locked,
        "can_edit": can_manage_commission(request.user), "show_commission_tabs": can_view_statements(request.user),
        "nav_active": "my-commission" if mine else "commission"})


@login_required
@require_GET
def statement_detail_view(request: AppRequest, collector_id: int) -> HttpResponse:
    return _statement_page(request, collector_id, mine=False)


@login_required
@require_GET
def statement_mine_view(request: AppRequest) -> HttpResponse:
    if not request.user.is_collector:
        raise PermissionDenied("只有业务员有自己的提成表")
    return _statement_page(request, request.user.pk, mine=True)


@login_required
@require_POST
def statement_approve_view(request: AppRequest, collector_id: int) -> HttpResponse:
    if not can_manage_commission(request.user):
        raise PermissionDenied("提成表由管理人员审批")
    collector = get_object_or_404(collector_list(active_only=False), pk=collector_id)
    month = month_param(request.POST.get("month"))
    try:
        st = statement_approve(collector=collector, month=month, by=request.user, request=request)
    except CommissionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已审批并锁定 {collector.display_name} {month:%Y年%m月} 提成表"
                                  f"（提成 ¥{st.commission:,.2f}）")
    return redirect(reverse("performance:statement-detail", args=[collector.pk]) + f"?month={month:%Y-%m}")


def _decimal(raw: str, what: str) -> Decimal:
    try:
        return Decimal(raw.replace(",", "").replace("%", "").strip())
    except (InvalidOperation, ValueError):
        raise CommissionError(f"{what}“{raw}”不是数字") from None


def _date(raw: str, what: str) -> dt.date | None:
    if not raw.strip():
        return None
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise CommissionError(f"{what}“{raw}”不是日期（例如 2026-12-01）") from None


def _tiers(raw: str) -> list[tuple[Decimal, Decimal]]:
    """One tier a line: "起点 比例%" (e.g. "10000 2" or "50% 3%")."""
    tiers = []
    for number, line in enumerate(raw.splitlines(), start=1):
        parts = line.replace("，", " ").replace(",", " ").replace(":", " ").replace("：", " ").split()
        if not parts:
            continue
        if len(parts) != 2:
            raise CommissionError(f"阶梯第 {number} 行应为“起点 比例%”，例如“10000 2%”")
        tiers.append((_decimal(parts[0], "阶梯起点"), _decimal(parts[1], "阶梯比例") / 100))
    return tiers


@login_required
@require_http_methods(["GET", "POST"])
def scheme_list_view(request: AppRequest) -> HttpResponse:
    if not can_manage_commission(request.user):
        raise PermissionDenied("提成方案由管理人员设置")
    form = request.POST if request.method == "POST" else {}
    error = ""
    if request.method == "POST":
        try:
            bank_id, batch_id = request.POST.get("bank", ""), request.POST.get("batch", "")
            bank = Bank.objects.filter(pk=bank_id).first() if bank_id.isdigit() else None
            batch = Batch.objects.filter(pk=batch_id).first() if batch_id.isdigit() else None
            kind = request.POST.get("kind", "")
            rate_raw = request.POST.get("rate", "").strip()
            rate = _decimal(rate_raw, "提成比例") / 100 if rate_raw else None
            start = _date(request.POST.get("effective_from", ""), "生效日期")
            if start is None:
                raise CommissionError("请填写生效日期")
            scheme = scheme_create(
                name=request.POST.get("name", ""), bank=bank, batch=batch, kind=kind, rate=rate,
                tiers=_tiers(request.POST.get("tiers", "")) if kind != SchemeKind.FLAT else [],
                effective_from=start, effective_to=_date(request.POST.get("effective_to", ""), "失效日期"),
                by=request.user, request=request)
        except CommissionError as exc:
            error = str(exc)
        else:
            messages.success(request, f"已新建提成方案“{scheme.name}”")
            return redirect("performance:schemes")
    return render(request, "performance/scheme_list.html", {
        "schemes": scheme_list(), "kinds": SchemeKind.choices, "banks": Bank.objects.order_by("name"),
        "batches": Batch.objects.select_related("bank").order_by("-imported_at")[:300], "form": form, "error": error,
        "links": month_links(month_param(None)), "can_edit": True, "show_commission_tabs": True,
        "nav_active": "commission"})


@login_required
@require_POST
def scheme_end_view(request: AppRequest, scheme_id: int) -> HttpResponse:
    if not can_manage_commission(request.user):
        raise PermissionDenied("提成方案由管理人员设置")
    scheme = get_object_or_404(CommissionScheme, pk=scheme_id)
    try:
        end = _date(request.POST.get("effective_to", ""), "失效日期")
        if end is None:
            raise CommissionError("请填写失效日期")
        scheme_end(scheme=scheme, effective_to=end, by=request.user, request=request)
    except CommissionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"方案“{scheme.name}”将于 {end:%Y-%m-%d} 后失效")
    return redirect("performance:schemes")
