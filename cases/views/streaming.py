"""Streamed responses that stay streamed under daphne.

Under ASGI Django reads a synchronous streaming body to the end into a list before sending any of it, so a
file, a zip or an export handed over as a plain generator would sit whole in the server's memory (a 677 MB
business-data zip: 935 MB peak instead of 148 MB). `streamed_response` hands ASGI an async iterator that pulls
one chunk at a time from the generator in the request's sync thread (so a database cursor the generator reads
stays on one connection); the test client and WSGI get the generator itself. Every view that streams a body
goes through here: case files and the 下载全部资料 zip, chat attachments, bank templates, the exports, applicant
documents and the assessment export, the audit-log export and unmatched recordings. Django's FileResponse is not
used for the same reason (under ASGI it is a synchronous body too).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import IO

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.utils.http import content_disposition_header

from accounts.origin import current_origin, with_origin
from cases.uploads import CHUNK

logger = logging.getLogger(__name__)

_DONE = object()


async def _pull(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    step = sync_to_async(next, thread_sensitive=True)
    try:
        while True:
            try:
                chunk = await step(chunks, _DONE)
            except Exception:
                # A stream that fails half-way (a query error, a file gone) ends the response here: raised out of
                # the body, daphne could only try to start a second response and the client waited for ever.
                # The download is cut short (a zip or .xlsx without its end reads as damaged); the error is logged.
                logger.exception("streamed response failed after it started; the response ends here")
                return
            if chunk is _DONE:
                return
            yield chunk  # type: ignore[misc]
    finally:
        # A client that goes away mid-download: close the generator (zip, cursor, file) in the same thread.
        if (close := getattr(chunks, "close", None)) is not None:
            await sync_to_async(close, thread_sensitive=True)()


def streamed_response(request: HttpRequest, chunks: Iterable[bytes], *, content_type: str, status: int = 200,
                      headers: dict[str, str] | None = None) -> StreamingHttpResponse:
    """A StreamingHttpResponse of `chunks` that is sent chunk by chunk under ASGI as well as WSGI.

    The chunks are produced after the view (and the middleware) returned: the request's origin is bound again
    around each one, so what a stream audits when it starts still carries the IP address and user agent.
    """
    produced = with_origin(iter(chunks), current_origin())
    body = _pull(produced) if isinstance(request, ASGIRequest) else produced
    return StreamingHttpResponse(body, status=status, content_type=content_type, headers=headers)


def attachment_response(request: HttpRequest, chunks: Iterable[bytes], *, content_type: str,
                        filename: str) -> StreamingHttpResponse:
    """A produced-while-sent download (export, zip) saved as `filename`, never cached."""
    return streamed_response(request, chunks, content_type=content_type,
                             headers={"Content-Disposition": content_disposition_header(True, filename),
                                      "Cache-Control": "private, no-store"})


class FileChunks:
    """An open file read piecewise from where it stands, closed at its end, or by `close()` when the response is
    closed before (a client that went away), or when the response is dropped unread (the test client closes a
    streamed response only once it was read): a generator that never started could do neither."""

    def __init__(self, handle: IO[bytes], *, chunk: int = CHUNK) -> None:
        self.handle, self.chunk = handle, chunk
        weakref.finalize(self, handle.close)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        data = self.handle.read(self.chunk) if not self.handle.closed else b""
        if not data:
            self.close()
            raise StopIteration
        return data

    def close(self) -> None:
        self.handle.close()


def file_chunks_of(handle: IO[bytes], *, chunk: int = CHUNK) -> FileChunks:
    return FileChunks(handle, chunk=chunk)


def file_attachment_response(request: HttpRequest, handle: IO[bytes], *, content_type: str,
                             filename: str) -> StreamingHttpResponse:
    """A download of an open (e.g. temporary) file, streamed from its start and closed when sent."""
    size = handle.seek(0, 2)
    handle.seek(0)
    response = attachment_response(request, file_chunks_of(handle), content_type=content_type, filename=filename)
    response["Content-Length"] = str(size)
    return response
