"""Publishing events after the database commit: the only caller of the channel layer's group_send.

Actions call `publish_on_commit` (or `publish_stored_on_commit` for events already written to a user's
outbox); the message and the group list are snapshotted at once, and one `transaction.on_commit` callback
sends them, so nobody hears of a change that was rolled back. Must not import models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from realtime import groups as group_names
from realtime.events import EVENT_ID_KEY, Event, Primitive

logger = logging.getLogger(__name__)

Message = dict[str, Primitive]
Delivery = tuple[str, Message]  # (group, message)


def _send_groups(deliveries: list[Delivery]) -> None:
    """Send each message to its group. Runs after commit; a failing layer must not fail the request."""
    layer = get_channel_layer()
    if layer is None:
        logger.warning("no channel layer configured; %d realtime messages dropped", len(deliveries))
        return
    send = async_to_sync(layer.group_send)
    for group, message in deliveries:
        try:
            send(group, dict(message))
        except Exception:  # a process edge: the data is committed, the live push is best effort
            logger.exception("group_send to %s failed (type %s)", group, message.get("type"))


# Tests swap this for a recorder (tests/realtime/conftest.py `published`): the single publish callback.
send_groups: Callable[[list[Delivery]], None] = _send_groups


def _check_groups(to: Iterable[str]) -> list[str]:
    unique = list(dict.fromkeys(to))
    for name in unique:
        if not group_names.is_valid(name):
            raise ValueError(f"invalid group name {name!r}")
    return unique


def _on_commit(deliveries: list[Delivery]) -> None:
    if deliveries:
        # Looked up at call time so a test recorder installed later still sees it.
        transaction.on_commit(lambda: send_groups(deliveries))


def publish_on_commit(event: Event, *, to: list[str]) -> None:
    """Send `event` to every group in `to` once the current transaction commits (at once outside one)."""
    message = event.to_message()
    _on_commit([(group, message) for group in _check_groups(to)])


def publish_stored_on_commit(event: Event, *, event_ids: dict[str, int]) -> None:
    """Send `event` to each group with its own stored event id (group → outbox row id) after commit."""
    base = event.to_message()
    deliveries: list[Delivery] = []
    for group in _check_groups(event_ids):
        message = dict(base)
        message[EVENT_ID_KEY] = event_ids[group]
        deliveries.append((group, message))
    _on_commit(deliveries)
