"""Web → dialer commands over the channel layer's named channel "dialer.commands" (issue 5).

Nothing a process needs lives in another process's memory: a view's action sends a command here after
commit; whichever process runs the dialer (the web process itself in the embedded default, `run_dialer`
otherwise) receives it. The dialer answers with CallStatusChanged events to the collector's user group.
Must not import models.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

DIALER_CHANNEL = "dialer.commands"

Command = dict[str, str | int | float | bool | None]


def _send(message: Command) -> None:
    layer = get_channel_layer()
    if layer is None:
        logger.warning("no channel layer: dialer command %s dropped", message.get("type"))
        return
    try:
        async_to_sync(layer.send)(DIALER_CHANNEL, dict(message))
    except Exception:  # a process edge: a full or unreachable layer must not fail the request that committed
        logger.exception("dialer command %s could not be sent", message.get("type"))


def send_dialer_command_on_commit(message: Command) -> None:
    """Send `message` (its "type" names the command) to the dialer once the transaction commits."""
    snapshot = dict(message)
    transaction.on_commit(lambda: _send(snapshot))


async def receive_dialer_command(layer: Any) -> dict[str, Any]:
    """The next command for the dialer (awaits one)."""
    message: dict[str, Any] = await layer.receive(DIALER_CHANNEL)
    return message
