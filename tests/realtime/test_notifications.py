from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases.actions.notifications import user_events_deliver, user_events_prune
from cases.models import UserEvent
from realtime import groups
from realtime.events import ReminderRead


@pytest.mark.django_db
def test_user_events_prune_keeps_the_last_month(collector):
    # given
    old, new = (user_events_deliver(event=ReminderRead(all=True, unread_count=0), user_ids=[collector.pk])[0]
                for _ in range(2))
    UserEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    # when
    deleted = user_events_prune()
    # then
    assert deleted == 1
    assert list(UserEvent.objects.values_list("pk", flat=True)) == [new.pk]



@pytest.mark.django_db
def test_user_events_deliver_stores_one_row_per_user_and_publishes_with_its_id(collector, other_collector, published,
                                                                              django_capture_on_commit_callbacks):
    # given / when
    with django_capture_on_commit_callbacks(execute=True):
        rows = user_events_deliver(event=ReminderRead(all=True, unread_count=0),
                                   user_ids=[collector.pk, other_collector.pk, collector.pk])
    # then
    assert len(rows) == 2
    for row in rows:
        [message] = published.messages_to(groups.user(row.user_id))
        assert message["event_id"] == row.pk
        assert row.payload == {"reminder_ids": [], "all": True, "unread_count": 0}
