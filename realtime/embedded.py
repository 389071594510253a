"""The embedded default's in-process services (ARCHITECTURE.md): the reminders scheduler in the web loop.

It must run on the server's own event loop, not in a thread with a loop of its own: the in-memory
channel layer is not thread-safe, and publishing from the loop's worker threads (async_to_sync inside
sync_to_async) hands the send back to that loop. Daphne does not speak the ASGI lifespan protocol, so the
scheduler starts with the first websocket connection (every page opens one); catch-up makes the moment
it starts irrelevant. Only when settings.SCHEDULER_EMBEDDED (on by default only in the embedded default).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.conf import settings

logger = logging.getLogger(__name__)

_started: asyncio.Task[None] | None = None
_stop: asyncio.Event | None = None


def ensure_embedded_services() -> None:
    """Start the scheduler on the running loop once per process (no-op unless SCHEDULER_EMBEDDED)."""
    global _started, _stop
    if not settings.SCHEDULER_EMBEDDED:
        return
    if _started is not None and not _started.done():
        return
    from cases.management.commands.run_scheduler import scheduler_loop

    _stop = asyncio.Event()
    _started = asyncio.get_running_loop().create_task(
        scheduler_loop(interval=float(settings.SCHEDULER_INTERVAL_SECONDS), stop=_stop), name="embedded-scheduler")
    logger.info("embedded scheduler started (every %ss)", settings.SCHEDULER_INTERVAL_SECONDS)


class EmbeddedServicesMiddleware:
    """ASGI middleware: make sure the embedded services run, then pass the connection on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        ensure_embedded_services()
        from dialer.embedded import ensure_embedded_dialer  # issue 5: the dialer in the web loop

        ensure_embedded_dialer()
        return await self.app(scope, receive, send)
