"""Account pages for system admins (S1): list, create, edit, reset password, (de)activate, scopes, 2FA reset.

Adapters only: parse the form, call an ops action, render. Temporary passwords are rendered once in the
POST response (never stored in clear, never cached).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.inputs import id_param
from accounts.models import ROLE_FIELDS, BranchCompany, Role, User
from ops.actions import (
    AccountError,
    clerk_scopes_set,
    user_create,
    user_reset_2fa,
    user_reset_password,
    user_set_active,
    user_update,
)
from ops.forms import DeactivateForm, UserForm
from ops.policies import sysadmin_required
from ops.selectors import (
    audit_for_user,
    clerk_scope_grid,
    handover_url,
    totp_device_status,
    unfinished_cases_for,
    user_list,
    users_with_2fa,
)

PAGE_SIZE = 50


def _user(user_id: int) -> User:
    return get_object_or_404(User.objects.select_related("branch", "department"), pk=user_id)


@sysadmin_required
def user_list_view(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    active = request.GET.get("active", "active")
    branch = request.GET.get("branch", "")
    qs = user_list(q=q, role=role, branch_id=id_param(branch), active=active)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "ops/user_list.html", {
        "page": page, "paginator": page.paginator, "q": q, "role": role, "active": active, "branch": branch,
        "roles": Role.choices, "branches": BranchCompany.objects.all(), "with_2fa": users_with_2fa(),
        "nav_active": "ops-users",
    })


@never_cache
@sysadmin_required
def user_create_view(request: HttpRequest) -> HttpResponse:
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = user_create(by=request.user, username=data["username"], full_name=data["full_name"],
                                         phone=data["phone"], email=data["email"], roles=data["roles"],
                                         branch=data["branch"], department=data["department"],
                                         sip_endpoint=data["sip_endpoint"], request=request)
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            return render(request, "ops/user_password_shown.html", {
                "account": user, "password": password, "created": True, "nav_active": "ops-users"})
    return render(request, "ops/user_form.html", {"form": form, "account": None, "nav_active": "ops-users"})


@sysadmin_required
def user_edit_view(request: HttpRequest, user_id: int) -> HttpResponse:
    account = _user(user_id)
    form = UserForm(request.POST or None, instance=account)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("username")
        try:
            user_update(by=request.user, user=account, request=request, **data)
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已保存 {account.display_name} 的账号信息。")
            return HttpResponseRedirect(reverse("ops:user-edit", args=[account.pk]))
    banks = list(account.bank_scopes.select_related("bank").order_by("bank__code")) if account.is_clerk else []
    return render(request, "ops/user_form.html", {
        "form": form, "account": account, "totp": totp_device_status(user=account),
        "scoped_banks": [s.bank for s in banks], "history": audit_for_user(user=account),
        "unfinished": unfinished_cases_for(user=account, sample=0) if account.is_collector else None,
        "nav_active": "ops-users",
    })


@never_cache
@sysadmin_required
@require_POST
def user_password_reset_view(request: HttpRequest, user_id: int) -> HttpResponse:
    account = _user(user_id)
    password = user_reset_password(by=request.user, user=account, request=request)
    return render(request, "ops/user_password_shown.html", {
        "account": account, "password": password, "created": False, "nav_active": "ops-users"})


@sysadmin_required
def user_deactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    account = _user(user_id)
    form = DeactivateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_set_active(by=request.user, user=account, active=False, reason=form.cleaned_data["reason"],
                            request=request)
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"已停用 {account.display_name} 的账号，其登录会话随即失效。")
            return HttpResponseRedirect(reverse("ops:user-deactivate", args=[account.pk]))
    return render(request, "ops/user_deactivate.html", {
        "account": account, "form": form, "unfinished": unfinished_cases_for(user=account, sample=30),
        "handover_url": handover_url(user=account), "nav_active": "ops-users",
    })


@sysadmin_required
@require_POST
def user_reactivate_view(request: HttpRequest, user_id: int) -> HttpResponse:
    account = _user(user_id)
    user_set_active(by=request.user, user=account, active=True, request=request)
    messages.success(request, f"已重新启用 {account.display_name} 的账号。")
    return HttpResponseRedirect(reverse("ops:user-edit", args=[account.pk]))


@sysadmin_required
@require_POST
def user_2fa_reset_view(request: HttpRequest, user_id: int) -> HttpResponse:
    account = _user(user_id)
    count = user_reset_2fa(by=request.user, user=account, request=request)
    if count:
        messages.success(request, f"已重置 {account.display_name} 的两步验证；下次登录只需密码，可重新绑定。")
    else:
        messages.info(request, f"{account.display_name} 没有绑定两步验证。")
    return HttpResponseRedirect(reverse("ops:user-edit", args=[account.pk]))


@sysadmin_required
def scope_grid_view(request: HttpRequest) -> HttpResponse:
    """C7: which banks each clerk handles, as one checkbox grid (clerks × banks).

    The form names every clerk row it shows (`row`), and a save changes only those clerks: a form that did not
    render a clerk (a page opened before the clerk existed, a broken template) can never wipe that clerk's
    banks. Each checkbox's value ("clerk:bank") is built here, not in the template.
    """
    clerks, banks, pairs = clerk_scope_grid()
    if request.method == "POST":
        shown = {int(raw) for raw in request.POST.getlist("row") if raw.isdigit()}
        chosen: set[tuple[int, int]] = set()
        for raw in request.POST.getlist("scope"):
            clerk_id, _, bank_id = raw.partition(":")
            if clerk_id.isdigit() and bank_id.isdigit():
                chosen.add((int(clerk_id), int(bank_id)))
        bank_by_id = {b.pk: b for b in banks}
        changed = 0
        for clerk in clerks:
            if clerk.pk not in shown:
                continue
            want = sorted(b for c, b in chosen if c == clerk.pk and b in bank_by_id)
            have = sorted(b for c, b in pairs if c == clerk.pk)
            if want != have:
                clerk_scopes_set(by=request.user, clerk=clerk, banks=[bank_by_id[b] for b in want], request=request)
                changed += 1
        if changed:
            messages.success(request, f"已保存：{changed} 位内勤的负责银行有变动（已记入审计日志）。")
        else:
            messages.info(request, "没有变动。")
        return HttpResponseRedirect(reverse("ops:scope-grid"))
    rows = [(clerk, [(bank, f"{clerk.pk}:{bank.pk}", (clerk.pk, bank.pk) in pairs) for bank in banks])
            for clerk in clerks]
    return render(request, "ops/scope_grid.html", {
        "clerks": clerks, "banks": banks, "rows": rows, "nav_active": "ops-users"})


@sysadmin_required
def extension_list_view(request: HttpRequest) -> HttpResponse:
    """Collector ↔ phone extension mapping of every active phone collector, editable in one table."""
    collectors = list(User.objects.filter(is_active=True, **{ROLE_FIELDS[Role.PHONE_COLLECTOR]: True})
                      .select_related("branch", "department").order_by("branch__name", "department__name",
                                                                           "full_name"))
    errors: dict[int, str] = {}
    if request.method == "POST":
        changed = 0
        for account in collectors:
            raw = request.POST.get(f"ext-{account.pk}")
            if raw is None or raw.strip() == account.sip_endpoint:
                continue
            form = UserForm({"username": account.username, "full_name": account.full_name,
                             "phone": account.phone, "email": account.email, "branch": account.branch_id or "",
                             "department": account.department_id or "", "sip_endpoint": raw,
                             "roles": [f for f in ROLE_FIELDS.values() if getattr(account, f)]}, instance=account)
            if not form.is_valid():
                errors[account.pk] = "；".join(form.errors.get("sip_endpoint", []) or ["请检查该账号的资料"])
                account.sip_endpoint = raw
                continue
            user_update(by=request.user, user=account, sip_endpoint=form.cleaned_data["sip_endpoint"],
                        request=request)
            changed += 1
        if not errors:
            messages.success(request, f"已保存 {changed} 个分机设置。" if changed else "没有变动。")
            return HttpResponseRedirect(reverse("ops:extension-list"))
        messages.error(request, f"有 {len(errors)} 个分机没有保存，请按提示修改。")
    return render(request, "ops/extension_list.html", {"collectors": collectors, "errors": errors,
                                                       "nav_active": "ops-users"})

