"""Dialer: the ARI Stasis application's lifecycle (STYLE P8).

`run()` installs SIGTERM/SIGINT handlers that call `stop()`, connects with exponential backoff, registers
the handlers (dialer/handlers.py), receives web commands from the channel layer's "dialer.commands"
channel, writes a heartbeat to the cache key `dialer:health` every 10 s (and the live lines to
`dialer:lines` for the managers' board), runs the progressive dialling sessions (连续外呼), and on
`stop()` drains live calls for up to `config.drain_timeout_s` before hanging up the rest. The client is
closed in `finally`.
Imports `cases` only through dialer/domain.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import time
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.utils import timezone

from dialer import domain as default_domain
from dialer.ari import AriClient, AriConnectError
from dialer.config import DialerConfig
from dialer.handlers import Handlers
from realtime.commands import receive_dialer_command

logger = logging.getLogger(__name__)

HEALTH_KEY = "dialer:health"
LINES_KEY = "dialer:lines"


class Dialer:
    def __init__(self, config: DialerConfig, *, domain: Any = default_domain, channel_layer: Any = None,
                 heartbeat_s: float = 10.0, backoff_initial_s: float = 0.5) -> None:
        self.config = config
        self.channel_layer = channel_layer
        self.heartbeat_s = heartbeat_s
        self.client = AriClient(url=config.ari_url, user=config.ari_user, password=config.ari_password,
                                app=config.app, backoff_initial_s=backoff_initial_s,
                                backoff_max_s=float(config.reconnect_max_s))
        self.handlers = Handlers(config, self.client, domain)
        self.client.on_event = self.handlers.on_event
        self.client.on_resync = self.handlers.on_resync
        self.handlers.changed = self._lines_changed
        self.draining = False
        self._stop: asyncio.Event | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._lines_dirty: asyncio.Event | None = None

    # ---- lifecycle -------------------------------------------------------------------------------------

    def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        else:
            self._stop_early = True

    @property
    def stop_requested(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    async def run(self, *, install_signals: bool = True) -> None:
        self._stop = asyncio.Event()
        if getattr(self, "_stop_early", False):
            self._stop.set()
        self._lines_dirty = asyncio.Event()
        loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.add_signal_handler(sig, self.stop)
        events: asyncio.Task[None] | None = None
        try:
            self._start(self._heartbeat(), "dialer-heartbeat")
            connect = asyncio.ensure_future(self.client.connect_with_backoff())
            stopped = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({connect, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not connect.done():
                connect.cancel()
                stopped.cancel()
                return
            stopped.cancel()
            try:
                connect.result()
            except AriConnectError:
                return
            extensions = await self.handlers.domain.collector_extensions()
            self.handlers.extensions = extensions
            sources = [s for ext in extensions for s in (f"endpoint:PJSIP/{ext}", f"deviceState:PJSIP/{ext}")]
            if sources:
                with contextlib.suppress(Exception):  # the subscription is repeated on every reconnect
                    await self.client.subscribe(*sources)
            events = asyncio.create_task(self.client.run_events(), name="dialer-events")
            self._start(self._commands(), "dialer-commands")
            self._start(self._lines_writer(), "dialer-lines")
            self._start(self._progressive(), "dialer-progressive")
            logger.info("dialer running app=%s lines=%d", self.config.app, self.config.lines)
            await self._stop.wait()
            await self.drain()
        finally:
            if install_signals:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    with contextlib.suppress(NotImplementedError, RuntimeError):
                        loop.remove_signal_handler(sig)
            await _cancel_all(self._tasks)
            await self.client.close()
            if events is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await events
            await self._write_health(stopped=True)

    async def drain(self) -> None:
        """Let live calls finish for up to drain_timeout_s, then hang up the rest and write their records."""
        self.draining = True
        deadline = time.monotonic() + self.config.drain_timeout_s
        while self.handlers.live_calls() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self.handlers.live_calls():
            logger.warning("drain timeout: hanging up %d calls", len(self.handlers.live_calls()))
            await self.handlers.end_all()
            end = time.monotonic() + 5
            while self.handlers.live_calls() and time.monotonic() < end:
                await asyncio.sleep(0.05)
        await self.handlers.idle()

    def _start(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- web commands ----------------------------------------------------------------------------------

    async def _commands(self) -> None:
        layer = self.channel_layer or get_channel_layer()
        while True:
            message = await receive_dialer_command(layer)
            self._start(self._command(message), "dialer-command")

    async def _command(self, message: dict[str, Any]) -> None:
        try:
            if self.draining and message.get("type") == "originate":
                await self.handlers._refuse(
                    call_uuid=str(message["call_uuid"]), collector_id=int(message["collector_id"]),
                    case_id=message.get("case_id"), number=str(message["number"]), rule="not_connected",
                    message="呼叫系统正在重启，请稍后再拨")
                return
            await self.handlers.on_command(message)
        except Exception:  # process edge: one bad command must not stop the dialer
            logger.exception("dialer command failed type=%s call_id=%s", message.get("type"),
                             message.get("call_uuid"))

    # ---- health and lines ------------------------------------------------------------------------------

    def health(self, *, stopped: bool = False) -> dict[str, Any]:
        last = self.handlers.last_event_at
        return {
            "at": timezone.now().isoformat(), "pid": os.getpid(),
            "ari_connected": self.client.connected.is_set() and not stopped and not self.draining,
            "lines": self.config.lines, "lines_in_use": self.handlers.lines_in_use(),
            "last_event_at": dt.datetime.fromtimestamp(last, tz=dt.UTC).isoformat() if last else None,
            "connects": self.client.connects, "events_handled": self.handlers.handled,
        }

    async def _write_health(self, *, stopped: bool = False) -> None:
        value = self.health(stopped=stopped)
        lines = self.handlers.lines_snapshot()
        try:
            await sync_to_async(cache.set_many, thread_sensitive=False)(
                {HEALTH_KEY: value, LINES_KEY: {"at": time.time(), "lines": self.config.lines, "calls": lines}},
                timeout=30)
        except Exception:  # the cache being down must not stop calls
            logger.exception("dialer heartbeat failed")

    async def _heartbeat(self) -> None:
        was = None
        while True:
            await self._write_health()
            # Re-beat at once when the websocket goes up or down, so the web's "connected" check is current.
            end = time.monotonic() + self.heartbeat_s
            while time.monotonic() < end:
                now = self.client.connected.is_set()
                if now != was:
                    was = now
                    break
                await asyncio.sleep(0.2)

    async def _progressive(self) -> None:
        """连续外呼: every tick, give the collectors in a progressive session who are free their next call. The
        sessions live in the database, so a restarted dialer goes on where the last one stopped (after its resync
        has reconciled them). Never while disconnected or draining."""
        while True:
            await asyncio.sleep(self.config.progressive_tick_s)
            if self.draining or not self.client.connected.is_set():
                continue
            try:
                await self.handlers.progressive_round()
            except Exception:  # process edge: one failed round must not stop the loop
                logger.exception("progressive round failed call_id=-")

    def _lines_changed(self) -> None:
        if self._lines_dirty is not None:
            self._lines_dirty.set()

    async def _lines_writer(self) -> None:
        assert self._lines_dirty is not None
        while True:
            await self._lines_dirty.wait()
            self._lines_dirty.clear()
            await self._write_health()
            try:  # the board then reloads at once instead of at its next poll
                await self.handlers.domain.lines_changed(in_use=self.handlers.lines_in_use(), lines=self.config.lines)
            except Exception:  # the channel layer being down must not stop calls
                logger.exception("lines board notification failed")
            await asyncio.sleep(0.2)  # at most five writes a second however busy the lines are


async def _cancel_all(tasks: set[asyncio.Task[Any]], *, rounds: int = 10) -> None:
    """Cancel the tasks and wait for them to end. A task can swallow one cancellation (asgiref's
    sync_to_async does when the work it waits on finishes anyway) and then wait forever at its next await,
    so whatever is still running after a second is cancelled again."""
    pending = set(tasks)
    for _ in range(rounds):
        if not pending:
            return
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1)
    if pending:
        logger.error("dialer tasks still running after %d cancellations: %s", rounds,
                     ", ".join(task.get_name() for task in pending))
