"""Exports for managers: all cases (M4) with the case list's filters as a streamed .xlsx, and all business data
(M5) as a streamed zip; the exports page that offers both. Adapters only.
Both are produced while they are sent (cases.views.streaming).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.actions.exports import business_data_export_stream, cases_export_stream
from cases.forms import CaseFilterForm
from cases.policies import can_export_all
from cases.views.cases import AppRequest
from cases.views.streaming import attachment_response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def exports_view(request: AppRequest) -> HttpResponse:
    """The exports page (M4, M5): what each download holds, with the case list's filters if any were given."""
    if not can_export_all(user=request.user):
        raise PermissionDenied("只有管理人员可以导出全部数据")
    form = CaseFilterForm(request.GET, user=request.user)
    form.is_valid()
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "cases/exports.html", {"query": query.urlencode(), "nav_active": "cases-export",
                                                  "filtered": bool(query), "form": form})


@login_required
@require_GET
def cases_export_view(request: AppRequest) -> HttpResponse:
    if not can_export_all(user=request.user):
        raise PermissionDenied("只有管理人员可以导出委案")
    form = CaseFilterForm(request.GET, user=request.user)
    form.is_valid()
    filters = form.to_filters()
    return attachment_response(request, cases_export_stream(user=request.user, filters=filters), content_type=XLSX,
                               filename=f"委案导出-{timezone.localdate():%Y%m%d}.xlsx")


@login_required
@require_GET
def business_data_export_view(request: AppRequest) -> HttpResponse:
    """M5: 全部业务数据 as a zip, produced while it is sent (audited when the download starts)."""
    if not can_export_all(user=request.user):
        raise PermissionDenied("只有管理人员可以导出全部业务数据")
    form = CaseFilterForm(request.GET, user=request.user)
    form.is_valid()
    filters = form.to_filters()
    return attachment_response(request, business_data_export_stream(user=request.user, filters=filters),
                               content_type="application/zip",
                               filename=f"全部业务数据-{timezone.localtime():%Y%m%d-%H%M}.zip")
