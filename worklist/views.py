"""Pages of the collector's day (issue 16): 今日工作, a case's promises and callbacks, the per-bank settings.
Adapters only: parse, check policy, call an action or selector, render."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases.models import Bank
from cases.policies import access_case
from cases.selectors.cases import case_visible_to
from cases.views.streaming import file_attachment_response
from worklist.actions import bank_work_settings_update, callback_cancel, callback_schedule, settings_for_bank
from worklist.activity import collector_activity, collectors_visible_to
from worklist.exceptions import CallbackError, SettingsError
from worklist.export import XLSX, write_activity_workbook
from worklist.forms import ActivityFilterForm, BankWorkSettingsForm, CallbackForm, PromiseStatsForm
from worklist.models import Callback, CallbackStatus
from worklist.policies import (
    can_manage_work_settings,
    can_schedule_callback,
    can_view_collector_activity,
    can_view_work_queue,
)
from worklist.queue import WorkReason, work_queue_for_collector
from worklist.selectors import PROMISE_GROUPS, callback_list_for_case, promise_list_for_case, promise_stats

PAGE_SIZE = 25


class AppRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


@login_required
@require_GET
def work_queue_view(request: AppRequest) -> HttpResponse:
    if not can_view_work_queue(user=request.user):
        raise PermissionDenied
    queue = work_queue_for_collector(collector=request.user)
    reason = request.GET.get("reason", "")
    items = queue.items
    if reason in WorkReason.values:
        items = [i for i in items if reason in i.reasons]
    else:
        reason = ""
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"queue": queue, "page": page, "reason": reason, "nav_active": "work-queue",
               "start": (page.number - 1) * PAGE_SIZE}
    if request.htmx:
        return render(request, "worklist/work_queue.html#queue-body", context)
    return render(request, "worklist/work_queue.html", context)


def _case_panel(request: AppRequest, case_id: int, *, form: CallbackForm | None = None) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    context = {"case": case, "promises": promise_list_for_case(case=case),
               "callbacks": callback_list_for_case(case=case)[:10],
               "can_callback": can_schedule_callback(user=request.user, case=case),
               "callback_form": form or CallbackForm()}
    return render(request, "worklist/_case_promises.html", context)


@login_required
@require_GET
def case_promises_view(request: AppRequest, case_id: int) -> HttpResponse:
    return _case_panel(request, case_id)


@login_required
@require_POST
def callback_create_view(request: AppRequest, case_id: int) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if not can_schedule_callback(user=request.user, case=case):
        raise PermissionDenied
    form = CallbackForm(request.POST)
    if form.is_valid():
        try:
            callback_schedule(case=case, by=request.user, due_at=form.cleaned_data["due_at"],
                              phone=form.cleaned_data["phone"], note=form.cleaned_data["note"])
        except CallbackError as exc:
            form.add_error("due_at", str(exc))
        else:
            form = CallbackForm()
    return _case_panel(request, case_id, form=form)


@login_required
@require_POST
def callback_cancel_view(request: AppRequest, callback_id: int) -> HttpResponse:
    callback = get_object_or_404(Callback, pk=callback_id, status=CallbackStatus.PENDING)
    case = access_case(user=request.user, case_id=callback.case_id)
    if not can_schedule_callback(user=request.user, case=case):
        raise PermissionDenied
    try:
        callback_cancel(callback=callback, by=request.user)
    except CallbackError as exc:
        messages.error(request, str(exc))
    return _case_panel(request, case.pk)


@login_required
@require_http_methods(["GET", "POST"])
def work_settings_view(request: AppRequest) -> HttpResponse:
    if not can_manage_work_settings(user=request.user):
        raise PermissionDenied
    banks = list(Bank.objects.order_by("name"))
    selected = None
    raw = request.POST.get("bank") or request.GET.get("bank")
    if raw and raw.isdigit():
        selected = next((b for b in banks if b.pk == int(raw)), None)
    if selected is None and banks:
        selected = banks[0]
    form = None
    if selected is not None:
        current = settings_for_bank(selected.pk)
        form = BankWorkSettingsForm(request.POST or None, instance=current)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                bank_work_settings_update(
                    bank_id=selected.pk, by=request.user, tolerance_amount=data["tolerance_amount"],
                    grace_days=data["grace_days"],
                    weights={k: v for k, v in data.items() if k.startswith("weight_")})
            except SettingsError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"已保存 {selected.name} 的工作设置")
                return redirect(f"{request.path}?bank={selected.pk}")
    return render(request, "worklist/work_settings.html", {"banks": banks, "selected": selected, "form": form,
                                                           "nav_active": "work-settings"})


# --- M3: one collector's work -----------------------------------------------------------------------------------

ACTIVITY_PAGE = 100
EXPORT_HEADERS = ["时间", "类型", "案件编号", "客户姓名", "内容", "金额", "状态"]


def _activity_range(form: ActivityFilterForm) -> tuple[dt.date, dt.date, str]:
    today = timezone.localdate()
    data = form.cleaned_data if form.is_valid() else {}
    date_to = data.get("date_to") or today
    date_from = data.get("date_from") or (date_to - dt.timedelta(days=30))
    return date_from, date_to, data.get("kind") or ""


def _collector_for(request: AppRequest, collector_id: int) -> User:
    collector = get_object_or_404(User, pk=collector_id)
    if not can_view_collector_activity(user=request.user, collector=collector):
        raise PermissionDenied
    return collector


@login_required
@require_GET
def collector_list_view(request: AppRequest) -> HttpResponse:
    if not (request.user.is_manager or request.user.is_clerk):
        raise PermissionDenied
    return render(request, "worklist/collector_list.html",
                  {"collectors": collectors_visible_to(request.user), "nav_active": "collector-work"})


@login_required
@require_GET
def collector_activity_view(request: AppRequest, collector_id: int) -> HttpResponse:
    collector = _collector_for(request, collector_id)
    form = ActivityFilterForm(request.GET or None)
    date_from, date_to, kind = _activity_range(form)
    rows, summary = collector_activity(viewer=request.user, collector=collector, date_from=date_from,
                                       date_to=date_to, kind=kind)
    page = Paginator(rows, ACTIVITY_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"collector": collector, "form": form, "page": page, "summary": summary, "date_from": date_from,
               "date_to": date_to, "kind": kind, "query": query.urlencode(), "nav_active": "collector-work",
               "scoped": not request.user.is_manager and request.user.pk != collector.pk}
    return render(request, "worklist/collector_activity.html", context)


@login_required
@require_GET
def collector_activity_export_view(request: AppRequest, collector_id: int) -> HttpResponse:
    collector = _collector_for(request, collector_id)
    form = ActivityFilterForm(request.GET or None)
    date_from, date_to, kind = _activity_range(form)
    rows, summary = collector_activity(viewer=request.user, collector=collector, date_from=date_from,
                                       date_to=date_to, kind=kind)
    handle = tempfile.TemporaryFile()  # noqa: SIM115  (closed by the streamed response when sent)
    write_activity_workbook(handle, title=f"{collector.display_name} 工作记录", headers=EXPORT_HEADERS,
                            rows=[[timezone.localtime(r.at).strftime("%Y-%m-%d %H:%M") if r.kind == "call"
                                   else f"{timezone.localtime(r.at):%Y-%m-%d}", r.kind_label, r.case_no,
                                   r.debtor_name, r.detail, r.amount, r.status] for r in rows])
    handle.seek(0)
    audit_record(actor=request.user, action=AuditAction.EXPORT, object_type="collector_activity",
                 object_id=collector.pk,
                 summary=(f"导出业务员 {collector.display_name} 的工作记录（{date_from:%Y-%m-%d} 至 {date_to:%Y-%m-%d}"
                          f"{'，' + kind if kind else ''}）共 {len(rows)} 行"),
                 detail={"collector_id": collector.pk, "date_from": f"{date_from}", "date_to": f"{date_to}",
                         "kind": kind, "rows": len(rows)})
    name = f"工作记录_{collector.display_name}_{date_from:%Y%m%d}-{date_to:%Y%m%d}.xlsx"
    return file_attachment_response(request, handle, content_type=XLSX, filename=name)


@login_required
@require_GET
def promise_stats_view(request: AppRequest) -> HttpResponse:
    """承诺还款统计 (issue 16 item 2): promises, amounts and the kept rate per collector, department, branch or
    batch, by month or day, on the cases the viewer may see (a clerk: their banks)."""
    if not (request.user.is_manager or request.user.is_clerk):
        raise PermissionDenied
    form = PromiseStatsForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    today = timezone.localdate()
    date_to = data.get("date_to") or today
    date_from = data.get("date_from") or date_to.replace(day=1) - dt.timedelta(days=62)
    group = data.get("group") or "collector"
    by_month = (data.get("period") or "month") == "month"
    rows = promise_stats(cases=case_visible_to(request.user), group_by=group, by_month=by_month,
                         date_from=date_from, date_to=date_to)
    totals = {"count": sum(r.count for r in rows), "amount": sum((r.amount for r in rows), Decimal("0.00")),
              "kept": sum(r.kept for r in rows), "decided": sum(r.decided for r in rows),
              "kept_amount": sum((r.kept_amount for r in rows), Decimal("0.00"))}
    totals["kept_rate"] = (Decimal(totals["kept"]) / Decimal(totals["decided"])) if totals["decided"] else None
    return render(request, "worklist/promise_stats.html", {
        "form": form, "rows": rows, "totals": totals, "group_label": PROMISE_GROUPS[group][1], "by_month": by_month,
        "date_from": date_from, "date_to": date_to, "nav_active": "promise-stats"})
