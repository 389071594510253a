from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

from cases.actions.dialer import lines_changed_notify
from cases.actions.notifications import user_events_deliver
from realtime import groups
from realtime.consumers.base import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from realtime.events import ReminderRead
from realtime.publish import publish_on_commit

pytestmark = [pytest.mark.django_db(transaction=True)]


def _deliver(user_ids, unread=0):
    with transaction.atomic():
        return user_events_deliver(event=ReminderRead(all=True, unread_count=unread), user_ids=user_ids)


async def test_live_consumer_refuses_anonymous(fresh_layer, ws_connect):
    # given / when
    ws = await ws_connect(None)
    # then
    closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_live_consumer_refuses_inactive_user(fresh_layer, ws_connect, collector):
    # given
    collector.is_active = False
    await database_sync_to_async(collector.save)()
    # when
    ws = await ws_connect(collector)
    # then
    closed = await ws.receive_output(timeout=3)
    assert closed["type"] == "websocket.close"
    assert closed["code"] == CLOSE_UNAUTHENTICATED


async def test_live_consumer_refuses_case_topic_of_foreign_case(fresh_layer, ws_connect, collector,
                                                                other_collector, make_case):
    # given: a case worked by someone else
    case = await database_sync_to_async(make_case)(collector=other_collector)
    # when
    ws = await ws_connect(collector, f"/ws/live/?topics=case:{case.pk}")
    # then
    closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_live_consumer_refuses_dashboard_topic_for_collector(fresh_layer, ws_connect, collector):
    # given / when
    ws = await ws_connect(collector, "/ws/live/?topics=dashboard")
    # then
    closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_the_lines_topic_is_for_managers_and_carries_line_changes(fresh_layer, ws_connect, collector,
                                                                       manager):
    # given: a collector may not watch the lines; a manager subscribes
    refused = await ws_connect(collector, "/ws/live/?topics=lines")
    assert await refused.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}
    ws = await ws_connect(manager, "/ws/live/?topics=lines&after=0")
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"
    # when
    await database_sync_to_async(lines_changed_notify)(in_use=3, lines=10)
    # then
    message = await ws.receive_json_from(timeout=3)
    assert (message["type"], message["in_use"], message["lines"]) == ("lines.changed", 3, 10)
    await ws.disconnect()


async def test_live_consumer_delivers_own_case_topic(fresh_layer, ws_connect, collector, make_case):
    # given
    case = await database_sync_to_async(make_case)(collector=collector)
    ws = await ws_connect(collector, f"/ws/live/?topics=case:{case.pk}&after=0")
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"
    # when
    await database_sync_to_async(publish_on_commit)(ReminderRead(all=True, unread_count=0),
                                                    to=[groups.case(case.pk)])
    # then
    message = await ws.receive_json_from(timeout=3)
    assert message["type"] == "reminder.read"
    await ws.disconnect()


async def test_live_consumer_delivers_stored_event_with_its_id(fresh_layer, ws_connect, collector):
    # given
    ws = await ws_connect(collector, "/ws/live/?after=0")
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"
    # when
    rows = await database_sync_to_async(_deliver)([collector.pk], unread=3)
    # then
    message = await ws.receive_json_from(timeout=3)
    assert message["event_id"] == rows[0].pk
    assert message["unread_count"] == 3
    await ws.disconnect()


async def test_live_consumer_other_user_never_receives_user_event(fresh_layer, ws_connect, collector,
                                                                    other_collector):
    # given
    ws = await ws_connect(other_collector, "/ws/live/?after=0")
    await ws.receive_json_from(timeout=3)
    # when
    await database_sync_to_async(_deliver)([collector.pk])
    # then
    assert await ws.receive_nothing(timeout=0.5)
    await ws.disconnect()


async def test_live_consumer_replays_events_missed_while_disconnected(fresh_layer, ws_connect, collector):
    # given: a client that saw the first event, then lost its connection
    ws = await ws_connect(collector, "/ws/live/?after=0")
    await ws.receive_json_from(timeout=3)
    first = (await database_sync_to_async(_deliver)([collector.pk], unread=1))[0]
    assert (await ws.receive_json_from(timeout=3))["event_id"] == first.pk
    await ws.disconnect()
    # when: an event is sent while it is away, and it reconnects with the last id it saw
    missed = (await database_sync_to_async(_deliver)([collector.pk], unread=2))[0]
    ws = await ws_connect(collector, f"/ws/live/?after={first.pk}")
    # then: the missed event arrives, once, before the replay marker
    replayed = await ws.receive_json_from(timeout=3)
    assert replayed["event_id"] == missed.pk
    assert replayed["replayed"] is True
    marker = await ws.receive_json_from(timeout=3)
    assert marker == {"type": "realtime.replayed", "count": 1, "last_event_id": missed.pk, "truncated": False}
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


async def test_live_consumer_idle_socket_still_delivers_after_six_seconds(fresh_layer, ws_connect, collector):
    # given: an idle websocket (redis-py's 5 s socket timeout used to drop such consumers silently)
    ws = await ws_connect(collector, "/ws/live/?after=0")
    await ws.receive_json_from(timeout=3)
    await asyncio.sleep(6.5)
    # when
    rows = await database_sync_to_async(_deliver)([collector.pk])
    # then
    message = await ws.receive_json_from(timeout=5)
    assert message["event_id"] == rows[0].pk
    await ws.disconnect()


async def test_live_consumer_subscribe_message_checks_policy(fresh_layer, ws_connect, collector, other_collector,
                                                             make_case):
    # given
    case = await database_sync_to_async(make_case)(collector=other_collector)
    ws = await ws_connect(collector, "/ws/live/")
    # when
    await ws.send_json_to({"action": "subscribe", "topic": f"case:{case.pk}"})
    # then
    reply = await ws.receive_json_from(timeout=3)
    assert reply["type"] == "realtime.error"
    assert reply["message"] == "无权订阅该内容"
    await ws.disconnect()
