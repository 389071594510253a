"""Renders PDFs with WeasyPrint from Django templates. Pure: no queries, returns bytes.

Needs Pango, a CJK font ("Noto Sans CJK SC" from Debian's fonts-noto-cjk) and libharfbuzz-subset0 (without
it WeasyPrint silently embeds fonts the slow way: seconds per page, see ARCHITECTURE.md).
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from cases.documents.context import VisitFormContext


def render_pdf(html: str, base_url: str) -> bytes:
    # Imported here: WeasyPrint parses its stylesheets on import (about half a second, and log lines),
    # which every web process would otherwise pay at start-up for a page few requests use.
    from weasyprint import HTML

    return HTML(string=html, base_url=base_url).write_pdf()  # type: ignore[no-any-return]


def visit_form_pdf(ctx: VisitFormContext) -> bytes:
    html = render_to_string("documents/visit_form.html", {"f": ctx})
    return render_pdf(html, base_url=str(settings.BASE_DIR))
