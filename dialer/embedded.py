"""The embedded default's dialer (and ARI simulator) inside the web process (settings.DIALER_EMBEDDED).

Like realtime/embedded.py's scheduler, the dialer runs as a task on the server's own event loop (the
in-memory channel layer is not thread-safe, and the dialer receives web commands from it), started by the
first ASGI connection since daphne speaks no lifespan protocol. The simulator (settings.DIALER_SIMULATOR)
runs in its own thread with its own loop, as `python -m dialer.simulator` would, with one phone per
collector extension. Never started by tests or management commands: only the ASGI middleware calls this.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

from asgiref.sync import sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)

_task: asyncio.Task[None] | None = None
_simulator: object | None = None
_dialer: object | None = None


def ensure_embedded_dialer() -> None:
    """Start the dialer (and simulator) on the running loop once per process; no-op unless DIALER_EMBEDDED."""
    global _task
    if not getattr(settings, "DIALER_EMBEDDED", False):
        return
    if _task is not None and not _task.done():
        return
    _task = asyncio.get_running_loop().create_task(_run(), name="embedded-dialer")


def _start_simulator(extensions: list[str]) -> object | None:
    from dialer.config import DialerConfig
    from dialer.simulator.engine import Engine
    from dialer.simulator.server import SimulatorServer

    config = DialerConfig.from_settings()
    port = urlsplit(config.ari_url).port or 8088
    engine = Engine(phones=extensions or ["8001"], lines=config.lines, trunk=config.trunk,
                    user=config.ari_user, password=config.ari_password)
    server = SimulatorServer(engine, port=port)
    try:
        server.start()
    except Exception:  # port taken (another web process already runs it): use that one
        logger.warning("ARI simulator could not start on port %s; using whatever listens there", port)
        return None
    logger.info("embedded ARI simulator on %s with phones %s", server.url, ",".join(extensions))
    return server


async def _run() -> None:
    global _simulator, _dialer
    from dialer import domain
    from dialer.app import Dialer
    from dialer.config import DialerConfig

    try:
        config = DialerConfig.from_settings()
        if config.simulator and _simulator is None:
            extensions = sorted(await domain.collector_extensions())
            _simulator = await sync_to_async(_start_simulator, thread_sensitive=False)(extensions)
        dialer = Dialer(config)
        _dialer = dialer
        logger.info("embedded dialer starting against %s", config.ari_url)
        # No signal handlers: the web server owns the process's signals.
        await dialer.run(install_signals=False)
    except asyncio.CancelledError:
        raise
    except Exception:  # a process edge: the web keeps serving; the dialer heartbeat shows it is down
        logger.exception("embedded dialer stopped")
