"""The visit form (外访记录表, P5) as Word or PDF, from the case page. Each export is recorded."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from cases.actions.documents import visit_form_export
from cases.policies import access_case
from cases.views.cases import AppRequest


@login_required
@require_GET
def visit_form_view(request: AppRequest, case_id: int, fmt: str) -> HttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    if fmt not in ("docx", "pdf"):
        raise Http404
    doc = visit_form_export(case=case, fmt=fmt, by=request.user, request=request)
    return HttpResponse(doc.data, content_type=doc.content_type,
                        headers={"Content-Disposition": content_disposition_header(True, doc.filename),
                                 "Cache-Control": "private, no-store"})
