"""Exports of documents from a case (P5 visit form). Must not import views or `realtime.consumers`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from accounts.actions import audit_record
from accounts.models import AuditAction, User
from cases import history
from cases.documents.context import visit_form_context
from cases.documents.docx import visit_form_docx
from cases.documents.pdf import visit_form_pdf
from cases.models import Case
from cases.uploads import safe_filename_part

if TYPE_CHECKING:
    from django.http import HttpRequest

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@dataclass(frozen=True)
class RenderedDocument:
    filename: str
    content_type: str
    data: bytes


@transaction.atomic
def visit_form_export(*, case: Case, fmt: str, by: User, request: HttpRequest | None = None) -> RenderedDocument:
    """Render the 外访记录表 of `case` as "docx" or "pdf", and record the export (timeline and audit log).

    Emits: nothing.
    Raises: ValueError for an unknown format.
    """
    if fmt not in ("docx", "pdf"):
        raise ValueError(f"unknown visit form format {fmt!r}")
    ctx = visit_form_context(case=case, user=by)
    data = visit_form_docx(ctx) if fmt == "docx" else visit_form_pdf(ctx)
    history.visit_form_exported(case=case, actor=by, fmt=fmt)
    audit_record(actor=by, action=AuditAction.EXPORT,
                 summary=f"导出委案 {case.case_no} {case.debtor_name} 的外访记录表",
                 object_type="Case", object_id=case.pk, request=request, detail={"format": fmt})
    stamp = f"{timezone.localdate():%Y%m%d}"
    return RenderedDocument(
        filename=f"外访记录表_{safe_filename_part(case.case_no)}_{safe_filename_part(case.debtor_name)}_{stamp}.{fmt}",
        content_type=DOCX_TYPE if fmt == "docx" else "application/pdf",
        data=data,
    )
