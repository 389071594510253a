from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from cases.models import Reminder
from tests.realtime.conftest import session_cookie_for

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: processes share events only through Redis"),
]


async def _open_live(session: aiohttp.ClientSession, base: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(base.replace("http://", "ws://") + "/ws/live/?after=0",
                                  headers={"Origin": base}, heartbeat=None)
    first = json.loads((await ws.receive(timeout=10)).data)
    assert first["type"] == "realtime.replayed"
    return ws


async def _next_of_type(ws: aiohttp.ClientWebSocketResponse, event_type: str, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            assert msg.type == aiohttp.WSMsgType.TEXT, msg
            data = json.loads(msg.data)
            if data["type"] == event_type:
                return data


def _make_reminder(user, case):
    from django.utils import timezone

    return Reminder.objects.create(user=user, case=case, kind="expiry_3", cycle="x", due_at=timezone.now(),
                                   text="此案件还有3天到期，请抓紧进行工作")


async def test_event_published_in_one_daphne_reaches_client_of_another(start_daphne, collector, make_case):
    # given: two web processes sharing Redis, the collector's websocket on the second
    server_a, server_b = start_daphne(), start_daphne()
    case = await database_sync_to_async(make_case)(collector=collector)
    reminder = await database_sync_to_async(_make_reminder)(collector, case)
    cookie = await database_sync_to_async(session_cookie_for)(collector)
    headers = {"Cookie": cookie}
    async with aiohttp.ClientSession(headers=headers) as http:
        ws_b = await _open_live(http, server_b)
        ws_a = await _open_live(http, server_a)
        # when: the reminder is marked read through a request to the first process
        page = await http.get(server_a + "/cases/reminders/")
        assert page.status == 200
        csrf = page.cookies["csrftoken"].value
        response = await http.post(f"{server_a}/cases/reminders/{reminder.pk}/read/",
                                   headers={"X-CSRFToken": csrf, "Referer": server_a + "/", "HX-Request": "true",
                                            "Cookie": f"{cookie}; csrftoken={csrf}"})
        assert response.status == 200, await response.text()
        # then: the event arrives on both processes' sockets, with the stored event id
        on_b = await _next_of_type(ws_b, "reminder.read")
        on_a = await _next_of_type(ws_a, "reminder.read")
        assert on_b["reminder_ids"] == [reminder.pk]
        assert on_b["unread_count"] == 0
        assert on_a["event_id"] == on_b["event_id"]
        await ws_a.close()
        await ws_b.close()


async def test_idle_websocket_through_daphne_and_redis_still_delivers(start_daphne, collector, make_case):
    # given: a websocket idle for longer than redis-py's old 5 s socket timeout
    server = start_daphne()
    case = await database_sync_to_async(make_case)(collector=collector)
    reminder = await database_sync_to_async(_make_reminder)(collector, case)
    cookie = await database_sync_to_async(session_cookie_for)(collector)
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        ws = await _open_live(http, server)
        await asyncio.sleep(7)
        # when
        from cases.actions.reminders import reminder_mark_read

        await database_sync_to_async(reminder_mark_read)(user=collector, reminder_ids=[reminder.pk])
        # then
        assert (await _next_of_type(ws, "reminder.read"))["reminder_ids"] == [reminder.pk]
        await ws.close()
