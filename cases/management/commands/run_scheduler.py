"""manage.py run_scheduler: the reminders scheduler (C11, P2, P3), one process in production.

Every SCHEDULER_INTERVAL_SECONDS it creates the reminders that fell due (exactly once: see
cases/actions/reminders.py) and writes a heartbeat to the cache key `scheduler:health`. A scheduler that
was down catches up on its first tick. In the embedded default the same loop runs inside the web
process's event loop instead (realtime/embedded.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string

from cases import rollups
from cases.actions.dialer import recordings_retry_request
from cases.actions.notifications import user_events_prune
from cases.actions.reminders import FireResult, reminder_digest_send, reminder_fire_due

logger = logging.getLogger(__name__)

HEALTH_KEY = "scheduler:health"


def _run_extra_jobs() -> None:
    """Jobs of the layers above `cases` (e.g. ops: VPN expiry, daily backup), named in settings.

    They are wired by dotted path so that `cases` never imports the apps that sit above it; one failing
    job is logged and does not hold up the others or the reminders.
    """
    for path in settings.SCHEDULER_EXTRA_JOBS:
        try:
            import_string(path)()
        except Exception:  # a process edge: log and go on with the next job
            logger.exception("scheduler job %s failed", path)


def scheduler_tick() -> FireResult:
    """One round of due checks in this thread, with fresh database connections around it."""
    close_old_connections()
    try:
        result = reminder_fire_due()
        reminder_digest_send(now=timezone.now())  # issue 16: once a day, each user's open reminders by kind
        user_events_prune()
        recordings_retry_request()  # issue 5: recordings still on Asterisk are fetched again by the dialer
        rollups.refresh()  # report roll-ups: the groups marked since the last tick, so a report page rarely waits
        _run_extra_jobs()
        return result
    finally:
        close_old_connections()


def _beat(*, interval: float, result: FireResult | None, error: str, took: float) -> None:
    cache.set(HEALTH_KEY, {
        "at": timezone.now().isoformat(), "pid": os.getpid(), "interval": interval, "took_s": round(took, 3),
        "created": result.created if result else {}, "resolved": result.resolved if result else 0, "error": error,
    }, timeout=max(60, int(interval * 3)))


async def scheduler_loop(*, interval: float, stop: asyncio.Event, once: bool = False) -> None:
    """Run due checks every `interval` seconds until `stop` is set (or once)."""
    while not stop.is_set():
        started = time.monotonic()
        result: FireResult | None = None
        error = ""
        try:
            result = await sync_to_async(scheduler_tick, thread_sensitive=False)()
        except Exception as exc:  # a process edge: log and try again next tick
            logger.exception("scheduler tick failed")
            error = f"{type(exc).__name__}: {exc}"
        took = time.monotonic() - started
        try:
            await sync_to_async(_beat, thread_sensitive=False)(interval=interval, result=result, error=error,
                                                                took=took)
        except Exception:  # the heartbeat store being down must not stop reminders
            logger.exception("scheduler heartbeat failed")
        if once:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=max(0.0, interval - took))


class Command(BaseCommand):
    help = "提醒调度：定时生成到期提醒、首呼/首访超期提醒（每条只生成一次）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--interval", type=float, default=None, help="检查间隔（秒），默认取配置")
        parser.add_argument("--once", action="store_true", help="只检查一次后退出")

    def handle(self, *args: object, **options: object) -> None:
        interval = float(options["interval"] or settings.SCHEDULER_INTERVAL_SECONDS)  # type: ignore[arg-type]
        once = bool(options["once"])

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            logger.info("scheduler started, interval %ss", interval)
            await scheduler_loop(interval=interval, stop=stop, once=once)
            logger.info("scheduler stopped")

        asyncio.run(main())
        if once:
            health = cache.get(HEALTH_KEY) or {}
            self.stdout.write(f"提醒检查完成：新建 {health.get('created', {})}，已处理超期 {health.get('resolved', 0)}")
