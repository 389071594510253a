"""Serving case files (never through a public media URL) and the full download of a case (C14, P12, M3).

Every response starts from `access_case`: a file of a case the user may not see is a 404, like the case.
Audio, pictures and PDFs play or show inline with HTTP Range support (seeking in a long recording);
`?download=1` asks for an attachment. Every access is audited once per user, file, login session and kind
(viewed / downloaded), whatever the request (plain, Range). Files are delivered under a safe name with the
extension of their detected type, never cached.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from cases import uploads
from cases.actions.files import case_bundle_download, case_file_access
from cases.documents.bundle import Member, file_chunks, stream_zip
from cases.documents.workbook import write_work_records
from cases.masking import masker_for
from cases.models import StoredFile
from cases.policies import access_case
from cases.selectors.work import case_bundle, stored_file_get
from cases.views.cases import AppRequest
from cases.views.streaming import attachment_response, streamed_response

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single-range header; None to serve the whole file."""
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    first, last = match.group(1), match.group(2)
    if first:
        start = int(first)
        end = min(int(last), size - 1) if last else size - 1
    else:  # "bytes=-500": the last 500 bytes
        start, end = max(size - int(last), 0), size - 1
    if start > end or start >= size:
        raise ValueError("unsatisfiable")
    return start, end


def file_headers(stored: StoredFile, *, download: bool) -> dict[str, str]:
    """Headers of a customer file: its detected type under a safe name, attachment unless shown inline, no
    sniffing, never stored by the browser or a proxy."""
    return {
        "Content-Disposition": content_disposition_header(
            download, uploads.download_name(stored.original_name, stored.content_type)) or "",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }


@login_required
@require_GET
def case_file_view(request: AppRequest, case_id: int, file_id: int) -> HttpResponse | StreamingHttpResponse:
    case = access_case(user=request.user, case_id=case_id)
    stored = stored_file_get(case=case, file_id=file_id)
    if stored is None:
        raise Http404("文件不存在或已删除")
    download = request.GET.get("download") == "1" or stored.content_type not in uploads.INLINE_TYPES
    size = stored.size
    headers = file_headers(stored, download=download)
    headers["Accept-Ranges"] = "bytes"
    try:
        wanted = _range(request.headers.get("Range", ""), size)
    except ValueError:
        return HttpResponse(status=416, headers={"Content-Range": f"bytes */{size}"})
    case_file_access(stored=stored, by=request.user, download=download, session_key=request.session.session_key,
                     how="range" if wanted is not None else "whole", request=request)
    if wanted is None:
        response = streamed_response(request, uploads.iter_stored(stored.file.name),
                                     content_type=stored.content_type, headers=headers)
        response["Content-Length"] = str(size)
        return response
    start, end = wanted
    response = streamed_response(request, uploads.iter_stored(stored.file.name, start=start, length=end - start + 1),
                                 status=206, content_type=stored.content_type, headers=headers)
    response["Content-Range"] = f"bytes {start}-{end}/{size}"
    response["Content-Length"] = str(end - start + 1)
    return response


@login_required
@require_GET
def case_bundle_view(request: AppRequest, case_id: int) -> StreamingHttpResponse:
    """下载全部资料: the zip is produced while it is sent; memory stays flat whatever the recordings weigh."""
    case = access_case(user=request.user, case_id=case_id)
    bundle = case_bundle(case=case, mask=masker_for(request.user))
    case_bundle_download(case=case, by=request.user, file_count=len(bundle.files), request=request)

    now = timezone.localtime()
    # The workbook holds a case's few hundred rows (tens of kB): the only part built in memory.
    buf = io.BytesIO()
    write_work_records(bundle, buf)
    xlsx = buf.getvalue()
    mismatches: list[str] = []

    def members() -> Iterator[Member]:
        yield Member("工作记录.xlsx", len(xlsx), now, lambda: [xlsx])
        for f in bundle.files:
            yield Member(f.arcname, f.size, f.modified, file_chunks(lambda n=f.storage_name: uploads.open_stored(n)),
                         sha256=f.sha256)
        if mismatches:  # filled while the files above were written
            note = ("以下文件的内容与存入时记录的 SHA-256 不符（SHA256SUMS.txt 中为存入时的值）：\r\n"
                    + "\r\n".join(mismatches) + "\r\n").encode("utf-8-sig")
            yield Member("校验不符.txt", len(note), now, lambda: [note])

    filename = (f"{uploads.safe_filename_part(case.case_no)}_{uploads.safe_filename_part(case.debtor_name)}"
                f"_全部资料_{now:%Y%m%d}.zip")
    return attachment_response(request, stream_zip(members(), mismatches=mismatches), content_type="application/zip",
                               filename=filename)
