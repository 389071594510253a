"""基础资料 (issue 15): partner banks, branch companies and departments, kept by a 系统管理员 on the product's own
pages (Django's admin is read-only). Adapters only: parse the form, call an action, render; every change audited.
"""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from accounts.inputs import id_param
from accounts.models import BranchCompany, Department, User
from cases.actions.banks import bank_create, bank_update
from cases.exceptions import MasterDataError
from cases.models import Bank, CallPolicy, ClerkBankScope
from cases.models.compliance import (
    DEFAULT_MAX_ANSWERED_PER_DEBTOR,
    DEFAULT_MAX_UNANSWERED_PER_NUMBER,
    DEFAULT_WINDOW_END,
    DEFAULT_WINDOW_START,
)
from ops.org import (
    OrgError,
    branch_create,
    branch_merge,
    branch_rename,
    branch_retire,
    department_create,
    department_merge,
    department_rename,
    department_retire,
    staff_move,
)
from ops.policies import sysadmin_required

NAV = "master-data"


# --- banks ------------------------------------------------------------------------------------------------

@sysadmin_required
def bank_list_view(request: HttpRequest) -> HttpResponse:
    error = ""
    values = {"code": "", "name": ""}
    if request.method == "POST":
        values = {"code": request.POST.get("code", ""), "name": request.POST.get("name", "")}
        try:
            bank = bank_create(by=request.user, code=values["code"], name=values["name"],  # type: ignore[arg-type]
                               request=request)
        except MasterDataError as exc:
            error = str(exc)
        else:
            messages.success(request, f"已新建合作银行 {bank.name}（{bank.code}）。"
                                      "下一步：在“内勤负责银行”中指定负责的内勤。")
            return HttpResponseRedirect(reverse("ops:bank-list"))
    banks = list(Bank.objects.annotate(case_count=Count("cases")).order_by("-is_active", "code"))
    policies = {p.bank_id: p for p in CallPolicy.objects.all()}
    clerks: dict[int, list[str]] = {}
    for bank_id, name, username in ClerkBankScope.objects.filter(clerk__is_active=True).values_list(
            "bank_id", "clerk__full_name", "clerk__username").order_by("clerk__full_name"):
        clerks.setdefault(bank_id, []).append(name or username)
    rows = [{"bank": b, "clerks": "、".join(clerks.get(b.pk, [])), "policy": policies.get(b.pk)} for b in banks]
    return render(request, "ops/bank_list.html", {
        "rows": rows, "error": error, "values": values, "nav_active": NAV,
        "defaults": {"window_start": DEFAULT_WINDOW_START, "window_end": DEFAULT_WINDOW_END,
                     "max_answered_per_debtor": DEFAULT_MAX_ANSWERED_PER_DEBTOR,
                     "max_unanswered_per_number": DEFAULT_MAX_UNANSWERED_PER_NUMBER},
    }, status=400 if error else 200)


@sysadmin_required
def bank_edit_view(request: HttpRequest, bank_id: int) -> HttpResponse:
    bank = get_object_or_404(Bank, pk=bank_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "rename":
                bank_update(by=request.user, bank=bank, name=request.POST.get("name", ""),  # type: ignore[arg-type]
                            request=request)
                messages.success(request, "已保存银行名称。")
            elif action in ("deactivate", "activate"):
                bank_update(by=request.user, bank=bank, is_active=action == "activate",  # type: ignore[arg-type]
                            request=request)
                messages.success(request, "已恢复合作。" if action == "activate" else
                                 "已停止合作：不能再导入该银行的批次，已有委案照常可查。")
            else:
                raise MasterDataError("不认识的操作")
        except MasterDataError as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(reverse("ops:bank-edit", args=[bank.pk]))
    case_count = Bank.objects.filter(pk=bank.pk).annotate(n=Count("cases")).values_list("n", flat=True)[0]
    return render(request, "ops/bank_edit.html", {
        "bank": bank, "error": error, "case_count": case_count, "nav_active": NAV,
        "clerks": User.objects.filter(bank_scopes__bank=bank).order_by("full_name"),
    }, status=400 if error else 200)


# --- branch companies and departments -------------------------------------------------------------------

def _org_tree() -> list[tuple[BranchCompany, list[Department], int]]:
    staff = dict(User.objects.filter(is_active=True).values("department_id").annotate(n=Count("id"))
                 .values_list("department_id", "n"))
    branch_staff = dict(User.objects.filter(is_active=True).values("branch_id").annotate(n=Count("id"))
                        .values_list("branch_id", "n"))
    departments: dict[int, list[Department]] = {}
    for d in Department.objects.select_related("branch").order_by("name"):
        d.staff_count = staff.get(d.pk, 0)  # type: ignore[attr-defined]
        departments.setdefault(d.branch_id, []).append(d)
    return [(b, departments.get(b.pk, []), branch_staff.get(b.pk, 0)) for b in BranchCompany.objects.order_by("name")]


@sysadmin_required
def org_list_view(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "branch-create":
                branch = branch_create(by=request.user, name=request.POST.get("name", ""),  # type: ignore[arg-type]
                                       request=request)
                messages.success(request, f"已新建分公司 {branch.name}。")
            elif action == "department-create":
                branch = BranchCompany.objects.filter(pk=id_param(request.POST.get("branch", "")) or 0).first()
                if branch is None:
                    raise OrgError("请选择部门所属的分公司")
                department = department_create(by=request.user, branch=branch,  # type: ignore[arg-type]
                                               name=request.POST.get("name", ""), request=request)
                messages.success(request, f"已新建部门 {department}。")
            else:
                raise OrgError("不认识的操作")
        except OrgError as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(reverse("ops:org-list"))
    return render(request, "ops/org_list.html", {
        "tree": _org_tree(), "branches": BranchCompany.objects.order_by("name"), "error": error,
        "unplaced": User.objects.filter(is_active=True, department__isnull=True).count(), "nav_active": NAV,
    }, status=400 if error else 200)


@sysadmin_required
def branch_edit_view(request: HttpRequest, branch_id: int) -> HttpResponse:
    branch = get_object_or_404(BranchCompany, pk=branch_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "rename":
                branch_rename(by=request.user, branch=branch, name=request.POST.get("name", ""),  # type: ignore[arg-type]
                              request=request)
                messages.success(request, "已保存分公司名称。")
            elif action == "merge":
                target = BranchCompany.objects.filter(pk=id_param(request.POST.get("target", "")) or 0).first()
                if target is None:
                    raise OrgError("请选择并入哪家分公司")
                moved = branch_merge(by=request.user, source=branch, target=target,  # type: ignore[arg-type]
                                     request=request)
                messages.success(request, f"已并入 {target.name}，{moved} 人随之调入。")
                return HttpResponseRedirect(reverse("ops:org-list"))
            elif action == "retire":
                branch_retire(by=request.user, branch=branch, request=request)  # type: ignore[arg-type]
                messages.success(request, f"已撤销分公司 {branch.name}。")
                return HttpResponseRedirect(reverse("ops:org-list"))
            else:
                raise OrgError("不认识的操作")
        except OrgError as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(reverse("ops:branch-edit", args=[branch.pk]))
    return render(request, "ops/branch_edit.html", {
        "branch": branch, "error": error, "others": BranchCompany.objects.exclude(pk=branch.pk).order_by("name"),
        "departments": Department.objects.filter(branch=branch).order_by("name"),
        "staff_count": User.objects.filter(branch=branch).count(), "nav_active": NAV,
    }, status=400 if error else 200)


@sysadmin_required
def department_edit_view(request: HttpRequest, department_id: int) -> HttpResponse:
    department = get_object_or_404(Department.objects.select_related("branch"), pk=department_id)
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        target = Department.objects.select_related("branch").filter(
            pk=id_param(request.POST.get("target", "")) or 0).first()
        try:
            if action == "rename":
                department_rename(by=request.user, department=department,  # type: ignore[arg-type]
                                  name=request.POST.get("name", ""), request=request)
                messages.success(request, "已保存部门名称。")
            elif action == "merge":
                if target is None:
                    raise OrgError("请选择并入哪个部门")
                moved = department_merge(by=request.user, source=department, target=target,  # type: ignore[arg-type]
                                         request=request)
                messages.success(request, f"已并入 {target}，{moved} 人随之调入。")
                return HttpResponseRedirect(reverse("ops:department-edit", args=[target.pk]))
            elif action == "retire":
                department_retire(by=request.user, department=department, request=request)  # type: ignore[arg-type]
                messages.success(request, f"已撤销部门 {department}。")
                return HttpResponseRedirect(reverse("ops:org-list"))
            elif action == "move":
                if target is None:
                    raise OrgError("请选择调入哪个部门")
                ids = [i for i in (id_param(raw) for raw in request.POST.getlist("people")) if i]
                people = list(User.objects.filter(pk__in=ids, department=department))
                moved = staff_move(by=request.user, people=people, department=target,  # type: ignore[arg-type]
                                   request=request)
                messages.success(request, f"已把 {moved} 人调入 {target}。")
            else:
                raise OrgError("不认识的操作")
        except OrgError as exc:
            error = str(exc)
        else:
            return HttpResponseRedirect(reverse("ops:department-edit", args=[department.pk]))
    return render(request, "ops/department_edit.html", {
        "department": department, "error": error, "nav_active": NAV,
        "others": Department.objects.select_related("branch").exclude(pk=department.pk).order_by("branch__name",
                                                                                               "name"),
        "people": User.objects.filter(department=department).order_by("-is_active", "full_name"),
    }, status=400 if error else 200)
