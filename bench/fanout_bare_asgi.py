"""The baseline of bench/fanout.py: the barest channels consumer daphne can serve.

No session, no origin check, no policy, no typed events: connect → join one group → accept, and forward
every group message to the socket as JSON. Served by daphne with the same Redis channel layer settings.
"""

from __future__ import annotations

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402

GROUP = "bench.bare"


class BareConsumer(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def bench_tick(self, message: dict[str, object]) -> None:
        await self.send(text_data=json.dumps(message))


application = ProtocolTypeRouter({"websocket": BareConsumer.as_asgi()})
