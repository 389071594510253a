"""Delivery of events a user must not miss (R1): store one outbox row per recipient, then publish.

The row id travels as the message's `event_id`; a browser that reconnects asks for every row after the
last id it saw (see realtime/consumers/base.py), so nothing sent while it was away is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from cases.models import UserEvent
from realtime import groups
from realtime.events import Event
from realtime.publish import publish_stored_on_commit


@transaction.atomic
def user_events_deliver(*, event: Event, user_ids: Iterable[int]) -> list[UserEvent]:
    """Store `event` for each user and publish it to their user groups after commit.

    Emits: `event` → user.<id> for each id, with that user's stored event id.
    Raises: nothing.
    """
    unique_ids = list(dict.fromkeys(uid for uid in user_ids if uid))
    if not unique_ids:
        return []
    message = event.to_message()
    payload = {k: v for k, v in message.items() if k != "type"}
    rows = UserEvent.objects.bulk_create(
        [UserEvent(user_id=uid, type=event.type, payload=payload) for uid in unique_ids]
    )
    if any(row.pk is None for row in rows):  # a backend that cannot return ids from bulk inserts
        rows = [UserEvent.objects.create(user_id=uid, type=event.type, payload=payload) for uid in unique_ids]
    publish_stored_on_commit(event, event_ids={groups.user(row.user_id): row.pk for row in rows})
    return rows


# Stored events only serve catching up after a dropped connection; pages render their state from the
# domain tables, so a month of them is plenty.
USER_EVENT_RETENTION = dt.timedelta(days=30)


def user_events_prune(*, now: dt.datetime | None = None, batch: int = 5000) -> int:
    """Delete stored events older than the retention, at most `batch` per call (the scheduler calls it each
    tick). Returns how many were deleted.

    Emits: nothing.
    Raises: nothing.
    """
    cutoff = (now or timezone.now()) - USER_EVENT_RETENTION
    ids = list(UserEvent.objects.filter(created_at__lt=cutoff).order_by("id").values_list("id", flat=True)[:batch])
    if not ids:
        return 0
    deleted, _ = UserEvent.objects.filter(id__in=ids).delete()
    return deleted
