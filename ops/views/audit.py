"""Audit log viewer (read-only): filters, pages without COUNT(*), .xlsx export (itself audited)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.actions import audit_record
from accounts.inputs import page_number
from accounts.models import AuditAction, User
from cases.views.streaming import file_attachment_response
from ops.exports import audit_workbook
from ops.forms import AuditFilterForm
from ops.policies import sysadmin_required
from ops.selectors import AuditFilter, audit_list, audit_object_types, audit_page


def _filter(form: AuditFilterForm) -> AuditFilter:
    if not form.is_valid():
        return AuditFilter()
    d = form.cleaned_data
    return AuditFilter(actor_id=d.get("actor"), actor_name=d.get("actor_name") or "", action=d.get("action") or "",
                       object_type=(d.get("object_type") or "").strip(), object_id=(d.get("object_id") or "").strip(),
                       date_from=d.get("date_from"), date_to=d.get("date_to"), q=(d.get("q") or "").strip())


@sysadmin_required
def audit_list_view(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    f = _filter(form) if request.GET else AuditFilter()
    page = audit_page(f=f, page=page_number(request.GET.get("page")))
    actor = User.objects.filter(pk=f.actor_id).first() if f.actor_id else None
    return render(request, "ops/audit_list.html", {
        "form": form if request.GET else AuditFilterForm(), "page": page, "object_types": audit_object_types(),
        "actor": actor, "nav_active": "ops-audit",
    })


@sysadmin_required
def audit_export_view(request: HttpRequest) -> StreamingHttpResponse:
    form = AuditFilterForm(request.GET or None)
    f = _filter(form) if request.GET else AuditFilter()
    handle, count = audit_workbook(audit_list(f=f).iterator(chunk_size=2000))
    audit_record(actor=request.user, action=AuditAction.EXPORT,  # type: ignore[arg-type]
                 summary=f"导出审计日志 {count} 条", object_type="audit_log",
                 detail={"filter": {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                                    for k, v in f.__dict__.items() if v}}, request=request)
    name = f"审计日志_{timezone.localtime():%Y%m%d_%H%M}.xlsx"
    kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    # Streamed from the temporary file in blocks under daphne too (FileResponse would be read whole into memory).
    return file_attachment_response(request, handle, content_type=kind, filename=name)
