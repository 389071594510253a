from __future__ import annotations

import contextlib

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer


@pytest.fixture
def fresh_layer(settings):
    """A clean channel layer per test: a new in-memory layer, or the Redis one flushed of our prefix."""
    channel_layers.backends.clear()
    layer = get_channel_layer()
    flush = getattr(layer, "flush", None)
    if flush is not None:
        async_to_sync(flush)()
    yield layer
    channel_layers.backends.clear()


def session_cookie_for(user) -> str:
    """A logged-in session for `user` (sync), as the Cookie header value a browser would send."""
    from django.conf import settings as dj_settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{dj_settings.SESSION_COOKIE_NAME}={client.cookies[dj_settings.SESSION_COOKIE_NAME].value}"


@pytest.fixture
async def ws_connect():
    """Async factory: await ws_connect(user_or_None, "/ws/live/?…") → connected WebsocketCommunicator."""
    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator

    from asgi import application

    opened: list[WebsocketCommunicator] = []

    async def _connect(user, path="/ws/live/"):
        headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
        if user is not None:
            cookie = await database_sync_to_async(session_cookie_for)(user)
            headers.append((b"cookie", cookie.encode()))
        communicator = WebsocketCommunicator(application, path, headers=headers)
        connected, _ = await communicator.connect(timeout=5)
        assert connected
        opened.append(communicator)
        return communicator

    yield _connect
    for communicator in opened:
        # Ends the consumer (a closed socket still waits for the disconnect, as under daphne); harmless
        # for those the test already disconnected.
        with contextlib.suppress(Exception):  # already finished or already disconnected
            await communicator.disconnect(timeout=3)


# The live daphne servers of tests/browser/conftest.py, for the multi-process tests here.
from tests.browser.conftest import _shared_daphne, live_url, start_daphne  # noqa: E402, F401
