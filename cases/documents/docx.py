"""Renders .docx documents from docxtpl templates. Pure: no queries, returns bytes."""

from __future__ import annotations

import io
from pathlib import Path

from docxtpl import DocxTemplate

from cases.documents.context import VisitFormContext

TEMPLATES = Path(__file__).resolve().parent / "templates"
VISIT_FORM_TEMPLATE = TEMPLATES / "visit_form.docx"


def render_docx(template: Path, context: dict[str, object]) -> bytes:
    doc = DocxTemplate(str(template))
    # autoescape: customer data may contain & or < (company names), which would break the XML otherwise.
    doc.render(context, autoescape=True)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def visit_form_docx(ctx: VisitFormContext) -> bytes:
    return render_docx(VISIT_FORM_TEMPLATE, ctx.as_dict())
