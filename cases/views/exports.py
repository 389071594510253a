"""Exports for managers (M4): all cases, with the case list's filters, as a streamed .xlsx. Adapters only."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from cases.actions.exports import cases_export
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
    # Spooled to a temporary file (not memory) and streamed from it in chunks.
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when the download ends
    cases_export(user=request.user, filters=filters, out=out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=f"委案导出-{timezone.localdate():%Y%m%d}.xlsx",
                        content_type=XLSX)
