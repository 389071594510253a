"""Reads of the per-user event outbox: what a reconnecting browser missed, and where a page starts."""

from __future__ import annotations

from django.db.models import Max

from cases.models import UserEvent
from realtime.events import EVENT_ID_KEY, REPLAYED_KEY, Primitive

# A browser away for longer than this many events reloads its page state instead of replaying them all.
REPLAY_LIMIT = 500


def user_event_last_id(*, user_id: int) -> int:
    """The newest stored event id of a user (0 if none): a page rendered now has seen up to here."""
    return UserEvent.objects.filter(user_id=user_id).aggregate(last=Max("id"))["last"] or 0


def user_event_messages_after(*, user_id: int, after: int, limit: int = REPLAY_LIMIT) -> list[dict[str, Primitive]]:
    """Messages of the user's stored events newer than `after`, oldest first, as they were first sent."""
    rows = (
        UserEvent.objects.filter(user_id=user_id, id__gt=after)
        .order_by("id")
        .values_list("id", "type", "payload")[:limit]
    )
    messages: list[dict[str, Primitive]] = []
    for event_id, event_type, payload in rows:
        message: dict[str, Primitive] = {"type": event_type, **(payload or {})}
        message[EVENT_ID_KEY] = event_id
        message[REPLAYED_KEY] = True
        messages.append(message)
    return messages
