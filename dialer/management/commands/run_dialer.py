"""manage.py run_dialer: the dialer as its own process (docker-compose service `dialer`)."""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand

from dialer.app import Dialer
from dialer.config import DialerConfig


class Command(BaseCommand):
    help = "外呼服务：连接 Asterisk ARI，处理呼出、呼入、录音（SIGTERM 后等待通话结束再退出）"

    def handle(self, *args: object, **options: object) -> None:
        asyncio.run(Dialer(DialerConfig.from_settings()).run())
