"""Targets (set by managers, one by one or from an .xlsx) and the ranking against them (issue 18 item 2).
Adapters only: policy, parse, action or selector, render."""

from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from openpyxl import Workbook

from accounts.models import BranchCompany, Department
from accounts.selectors import collector_list
from cases.documents.workbook import safe_cell
from performance.actions.targets import targets_import, targets_set
from performance.exceptions import TargetError
from performance.imports import parse_target_workbook
from performance.models import TargetScope
from performance.selectors.targets import can_manage_targets, can_view_ranking, ranking_for_month, target_list
from performance.views.common import AppRequest, month_links, month_param

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UPLOAD = 5 * 1024 * 1024


def _subjects() -> list[tuple[str, str, list[tuple[int, str]]]]:
    """(scope, label, [(id, name)]) for the target grid: branch companies, departments, active collectors."""
    branches = [(b.pk, b.name) for b in BranchCompany.objects.order_by("name")]
    departments = [(d.pk, f"{d.branch.name} / {d.name}") for d in Department.objects.select_related("branch")]
    people = [(c.pk, f"{c.display_name}（{c.department.name if c.department else '未设部门'}）")
              for c in collector_list()]
    return [(TargetScope.BRANCH, "分公司", branches), (TargetScope.DEPARTMENT, "部门", departments),
            (TargetScope.COLLECTOR, "业务员", people)]


@login_required
@require_http_methods(["GET", "POST"])
def target_edit_view(request: AppRequest) -> HttpResponse:
    if not can_manage_targets(request.user):
        raise PermissionDenied("目标由管理人员设置")
    month = month_param(request.POST.get("month") or request.GET.get("month"))
    current = {(t.scope, t.collector_id or t.department_id or t.branch_id): t for t in target_list(month=month)}
    subjects = _subjects()
    errors: dict[str, str] = {}
    if request.method == "POST":
        entries = []
        for scope, _, items in subjects:
            for pk, name in items:
                raw = request.POST.get(f"t-{scope}-{pk}", "").replace(",", "").strip()
                raw_c = request.POST.get(f"c-{scope}-{pk}", "").strip()
                had = current.get((scope, pk))
                try:
                    amount = Decimal(raw).quantize(Decimal("0.01")) if raw else None
                    if amount is not None and not (0 <= amount < Decimal("1e14")):
                        raise InvalidOperation
                except (InvalidOperation, ValueError):
                    errors[f"t-{scope}-{pk}"] = f"{name}：回款目标应为不小于 0 的金额"
                    continue
                if raw_c and not raw_c.isdigit():
                    errors[f"c-{scope}-{pk}"] = f"{name}：接通目标应为不小于 0 的整数"
                    continue
                contacts = int(raw_c) if raw_c else None
                if had is None and amount is None:
                    continue
                if had is not None and had.repayment_target == amount and had.contact_target == contacts:
                    continue
                entries.append((scope, pk, amount, contacts))
        if not errors:
            try:
                count = targets_set(month=month, entries=entries, by=request.user, request=request)
            except TargetError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, f"已保存 {month:%Y年%m月} 目标（改动 {len(entries)} 项，当月共 {count} 项）")
                return redirect(f"{request.path}?month={month:%Y-%m}")
    rows = []
    for scope, label, items in subjects:
        for pk, name in items:
            t = current.get((scope, pk))
            key = f"{scope}-{pk}"
            rows.append({"scope": scope, "scope_label": label, "name": name, "key": key,
                         "amount": request.POST.get(f"t-{key}") if errors else (t.repayment_target if t else ""),
                         "contacts": request.POST.get(f"c-{key}") if errors else (t.contact_target if t else ""),
                         "error": errors.get(f"t-{key}") or errors.get(f"c-{key}")})
    return render(request, "performance/targets.html", {
        "month": month, "links": month_links(month), "rows": rows, "errors": list(errors.values()),
        "nav_active": "ranking"})


@login_required
@require_POST
def target_import_view(request: AppRequest) -> HttpResponse:
    if not can_manage_targets(request.user):
        raise PermissionDenied("目标由管理人员设置")
    month = month_param(request.POST.get("month"))
    upload = request.FILES.get("file")
    back = redirect(f"{reverse('performance:targets')}?month={month:%Y-%m}")
    if upload is None:
        messages.error(request, "请选择要导入的 .xlsx 文件")
        return back
    if upload.size and upload.size > MAX_UPLOAD:
        messages.error(request, "文件超过 5 MB，目标表不应这么大")
        return back
    parsed = parse_target_workbook(upload.read())
    if parsed.errors:
        messages.error(request, "未导入，请修改后重新上传：" + "；".join(parsed.errors[:20]))
        return back
    done, errors = targets_import(month=month, rows=parsed.rows, by=request.user, request=request)
    if errors:
        messages.error(request, "未导入，请修改后重新上传：" + "；".join(errors[:20]))
    else:
        messages.success(request, f"已从 {upload.name} 导入 {month:%Y年%m月} 目标 {done} 项")
    return back


@login_required
@require_GET
def target_template_view(request: AppRequest) -> HttpResponse:
    """The month's targets as an .xlsx to fill in: every branch company, department and collector, one a line."""
    if not can_manage_targets(request.user):
        raise PermissionDenied("目标由管理人员设置")
    month = month_param(request.GET.get("month"))
    current = {(t.scope, t.collector_id or t.department_id or t.branch_id): t for t in target_list(month=month)}
    wb = Workbook()
    ws = wb.active
    ws.title = f"{month:%Y-%m} 目标"
    ws.append(["对象类型", "名称", "回款目标（元）", "接通目标（次）"])
    labels = {TargetScope.BRANCH: "分公司", TargetScope.DEPARTMENT: "部门", TargetScope.COLLECTOR: "业务员"}
    for b in BranchCompany.objects.order_by("name"):
        t = current.get((TargetScope.BRANCH, b.pk))
        ws.append([labels[TargetScope.BRANCH], safe_cell(b.name), t.repayment_target if t else None,
                   t.contact_target if t else None])
    for d in Department.objects.select_related("branch"):
        t = current.get((TargetScope.DEPARTMENT, d.pk))
        ws.append([labels[TargetScope.DEPARTMENT], safe_cell(f"{d.branch.name}/{d.name}"),
                   t.repayment_target if t else None, t.contact_target if t else None])
    for c in collector_list():
        t = current.get((TargetScope.COLLECTOR, c.pk))
        ws.append([labels[TargetScope.COLLECTOR], safe_cell(c.username), t.repayment_target if t else None,
                   t.contact_target if t else None])
    for col, width in zip("ABCD", (10, 24, 16, 16), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    response = HttpResponse(out.getvalue(), content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'目标-{month:%Y-%m}.xlsx')}"
    return response


@login_required
@require_GET
def ranking_view(request: AppRequest) -> HttpResponse:
    """Progress to target and rank within the department, live (the page reloads its table when counters move)."""
    if not can_view_ranking(request.user):
        raise PermissionDenied("排名仅供管理人员查看")
    month = month_param(request.GET.get("month"))
    context = {"ranking": ranking_for_month(month=month), "month": month, "links": month_links(month),
               "can_edit": can_manage_targets(request.user), "nav_active": "ranking"}
    if request.GET.get("fragment") == "compact":
        return render(request, "performance/_ranking_compact.html", context)
    if request.GET.get("fragment"):
        return render(request, "performance/_ranking.html", context)
    return render(request, "performance/ranking.html", context)
