"""Exports for managers (M4): all cases, with the case list's filters, as a streamed .xlsx. Adapters only."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.actions.exports import cases_export_stream
from cases.forms import CaseFilterForm
from cases.views.cases import AppRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def can_export_all(user: object) -> bool:
    return bool(getattr(user, "is_active", False) and getattr(user, "is_manager", False))


@login_required
@require_GET
def cases_export_view(request: AppRequest) -> HttpResponse:
    if not can_export_all(request.user):
        raise PermissionDenied
    form = CaseFilterForm(request.GET, user=request.user)
    form.is_valid()
    filters = form.to_filters()
    response = StreamingHttpResponse(cases_export_stream(user=request.user, filters=filters), content_type=XLSX)
    name = quote(f"委案导出-{timezone.localdate():%Y%m%d}.xlsx")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
    return response
