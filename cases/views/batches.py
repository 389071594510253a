"""The batch list (委案批次): clerks see their banks' batches, managers and system admins all of them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.selectors import sees_all_cases
from cases.selectors.cases import batch_list_for_user
from cases.views.cases import AppRequest

BATCH_PAGE_SIZE = 50


@login_required
@require_GET
def batch_list_view(request: AppRequest) -> HttpResponse:
    user = request.user
    # Batches carry a bank's totals: a desk matter. Collectors work cases, not batches (P7).
    if not (user.is_clerk or sees_all_cases(user)):
        raise PermissionDenied("只有内勤和管理人员可以查看委案批次")
    # The batch table is small (a few hundred rows a year): an exact paginator count is cheap here.
    paginator = Paginator(batch_list_for_user(user=user), BATCH_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    context = {"page": page, "paginator": paginator, "nav_active": "batches"}
    return render(request, "cases/batch_list.html", context)
