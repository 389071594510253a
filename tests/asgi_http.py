"""Requests through django.core.handlers.asgi.ASGIHandler, the handler daphne runs, counting the body as it is
sent (ASGI `http.response.body` messages), with the peak of Python allocations meanwhile (tracemalloc).

The test client's AsyncClient stops at the response object; this goes one step further, through the code that
turns a streaming response into ASGI messages, where a synchronous body is read whole into a list.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler
from django.test import Client


@dataclass
class AsgiResult:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    bodies: list[int] = field(default_factory=list)  # size of every body message, in order
    peak_bytes: int = 0  # highest traced Python allocation above the start, while the request ran

    @property
    def size(self) -> int:
        return sum(self.bodies)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


async def asgi_get(path: str, *, user, query: str = "") -> AsgiResult:
    cookie = await sync_to_async(session_cookie)(user)
    result = AsgiResult()
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query.encode(), "root_path": "",
             "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    messages = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        if messages:
            return messages.pop()
        await asyncio.sleep(3600)  # the client stays until the body is sent
        return {"type": "http.disconnect"}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            result.status = int(message["status"])  # type: ignore[call-overload]
            result.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}  # type: ignore[union-attr]
        elif message["type"] == "http.response.body" and message.get("body"):
            result.bodies.append(len(message["body"]))  # type: ignore[arg-type]

    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        await ASGIHandler()(scope, receive, send)
        _, peak = tracemalloc.get_traced_memory()
        result.peak_bytes = peak - base
    finally:
        tracemalloc.stop()
    return result
