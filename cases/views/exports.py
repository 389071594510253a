"""Exports for managers: all cases (M4) with the case list's filters as a streamed .xlsx, and all business data
(M5) as a streamed zip; the exports page that offers both. Adapters only.

Under ASGI (daphne, production) Django reads a synchronous streaming body to the end into a list before sending
any of it, so a sync generator would hold the whole export in memory. `_streamed` hands ASGI an async iterator
that pulls one chunk at a time from the generator in the request's sync thread (the database cursor stays on
one connection); the test client and WSGI get the generator itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from cases.actions.exports import business_data_export_stream, cases_export_stream
from cases.forms import CaseFilterForm
from cases.policies import can_export_all
from cases.views.cases import AppRequest

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_DONE = object()


async def _pull(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    step = sync_to_async(next, thread_sensitive=True)
    try:
        while (chunk := await step(chunks, _DONE)) is not _DONE:
            yield chunk  # type: ignore[misc]
    finally:
        # A client that goes away mid-download: close the generator (zip, cursor) in the same thread.
        if (close := getattr(chunks, "close", None)) is not None:
            await sync_to_async(close, thread_sensitive=True)()


def _streamed(request: HttpRequest, chunks: Iterator[bytes], *, content_type: str,
              filename: str) -> StreamingHttpResponse:
    body = _pull(chunks) if isinstance(request, ASGIRequest) else chunks
    return StreamingHttpResponse(body, content_type=content_type,
                                 headers={"Content-Disposition": content_disposition_header(True, filename),
                                          "Cache-Control": "private, no-store"})


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
    return _streamed(request, cases_export_stream(user=request.user, filters=filters), content_type=XLSX,
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
    return _streamed(request, business_data_export_stream(user=request.user, filters=filters),
                     content_type="application/zip",
                     filename=f"全部业务数据-{timezone.localtime():%Y%m%d-%H%M}.zip")
