"""Protected file responses: streamed by Django, or handed to nginx with X-Accel-Redirect in production.

File views check permissions and audit first, then `return file_response(path, filename)`. With
settings.PROTECTED_DOWNLOADS_ACCEL the web process sends no bytes: nginx serves the file from its
`internal` location (deploy/nginx.conf), so a 200 MB recording does not hold a daphne worker.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.utils.http import content_disposition_header


def _relative_to_media(path: Path) -> str:
    root = Path(settings.MEDIA_ROOT).resolve()
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        raise Http404("文件不在存储目录中")
    return resolved.relative_to(root).as_posix()


def file_response(path: str | Path, filename: str, *, as_attachment: bool = True,
                  content_type: str | None = None) -> HttpResponse:
    """A response that delivers the file at `path` (inside MEDIA_ROOT) under the name `filename`."""
    path = Path(path)
    if not path.is_absolute():
        path = Path(settings.MEDIA_ROOT) / path
    kind = content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if settings.PROTECTED_DOWNLOADS_ACCEL:
        rel = _relative_to_media(path)
        response = HttpResponse(content_type=kind)
        response["X-Accel-Redirect"] = settings.PROTECTED_DOWNLOADS_ACCEL_PREFIX + quote(rel)
        response["Content-Disposition"] = content_disposition_header(as_attachment, filename) or ""
        response["X-Content-Type-Options"] = "nosniff"
        return response
    _relative_to_media(path)
    if not path.is_file():
        raise Http404("文件不存在")
    response = FileResponse(path.open("rb"), as_attachment=as_attachment, filename=filename, content_type=kind)
    response["X-Content-Type-Options"] = "nosniff"
    return response
