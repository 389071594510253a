"""A streamed download that fails half-way ends its response instead of leaving the client waiting."""

from __future__ import annotations

import pytest
from asgiref.testing import ApplicationCommunicator
from channels.db import database_sync_to_async

from tests.realtime.conftest import session_cookie_for


def _failing_stream(**kwargs):
    yield b"PK\x03\x04first part"
    raise RuntimeError("disk gone half-way")


@pytest.mark.django_db(transaction=True)
async def test_a_stream_failing_half_way_ends_the_response_under_asgi(manager, monkeypatch):
    # given: the case export, whose generator fails after its first chunk, served by the ASGI application
    from asgi import application
    from cases.views import exports

    monkeypatch.setattr(exports, "cases_export_stream", _failing_stream)
    cookie = await database_sync_to_async(session_cookie_for)(manager)
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "path": "/cases/export/cases.xlsx",
        "raw_path": b"/cases/export/cases.xlsx",
        "query_string": b"",
        "root_path": "",
        "scheme": "http",
        "headers": [(b"cookie", cookie.encode()), (b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }
    communicator = ApplicationCommunicator(application, scope)
    await communicator.send_input({"type": "http.request", "body": b""})
    # when: reading what the application sends
    start = await communicator.receive_output(timeout=10)
    body, more = b"", True
    while more:
        message = await communicator.receive_output(timeout=10)  # a hang fails here after 10 s
        assert message["type"] == "http.response.body"
        body += message.get("body", b"")
        more = message.get("more_body", False)
    # then: the response started, carried what was produced, and ended (no hang, no second response)
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert body == b"PK\x03\x04first part"
    await communicator.wait(timeout=5)
