"""Open websockets end with the session and follow the current case access, across real daphne processes
sharing Redis: the change happens in one process (or in the test process, as an admin's action), the socket
lives in another.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import aiohttp
import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import timezone

from cases.actions.chat import chat_message_send, document_request_open
from cases.enums import CaseStatus
from tests.cases import samples
from tests.realtime.conftest import session_cookie_for

pytestmark = [
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs REDIS_URL: processes share events only through Redis"),
    pytest.mark.timeout(120),
]


def _ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


async def _open(http: aiohttp.ClientSession, base: str, path: str = "/ws/live/?after=0"):
    ws = await http.ws_connect(_ws_url(base, path), headers={"Origin": base}, heartbeat=None)
    return ws


async def _first_json(ws, timeout: float = 10) -> dict:
    msg = await ws.receive(timeout=timeout)
    assert msg.type == aiohttp.WSMsgType.TEXT, (msg.type, msg.data)
    return json.loads(msg.data)


async def _closed_with(ws, timeout: float = 10) -> int | None:
    """Read until the server closes the socket; the close code."""
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED):
                return ws.close_code
            if msg.type == aiohttp.WSMsgType.ERROR:
                return None


async def _pong(ws, timeout: float = 10) -> bool:
    await ws.send_json({"action": "ping", "t": 1})
    async with asyncio.timeout(timeout):
        while True:
            msg = await ws.receive()
            if msg.type != aiohttp.WSMsgType.TEXT:
                return False
            if json.loads(msg.data)["type"] == "realtime.pong":
                return True


async def _live(http, base) -> aiohttp.ClientWebSocketResponse:
    ws = await _open(http, base)
    assert (await _first_json(ws))["type"] == "realtime.replayed"
    return ws


# --- item 18: the session ends, so do its sockets ---------------------------------------------------------


async def test_logout_on_one_process_closes_that_sessions_sockets_on_another(start_daphne, collector):
    # given: two sessions of one user, each with a socket on process B
    server_a, server_b = start_daphne(), start_daphne()
    cookie_1 = await database_sync_to_async(session_cookie_for)(collector)
    cookie_2 = await database_sync_to_async(session_cookie_for)(collector)
    async with (
        aiohttp.ClientSession(headers={"Cookie": cookie_1}) as one,
        aiohttp.ClientSession(headers={"Cookie": cookie_2}) as two,
    ):
        ws_1, ws_2 = await _live(one, server_b), await _live(two, server_b)
        # when: the first session logs out through process A
        page = await one.get(server_a + "/cases/reminders/")
        csrf = page.cookies["csrftoken"].value
        response = await one.post(
            server_a + "/accounts/logout/",
            allow_redirects=False,
            headers={"X-CSRFToken": csrf, "Referer": server_a + "/", "Cookie": f"{cookie_1}; csrftoken={csrf}"},
        )
        assert response.status == 302
        # then: its socket closes as signed out; the other session's socket still works
        assert await _closed_with(ws_1) == 4401
        assert await _pong(ws_2)
        await ws_2.close()


@pytest.mark.parametrize("admin_action", ["deactivate", "reset_password"])
async def test_deactivation_or_password_reset_closes_every_socket_of_the_user(
    start_daphne, collector, sysadmin, admin_action
):
    # given: the user on both processes, in two sessions
    server_a, server_b = start_daphne(), start_daphne()
    cookies = [await database_sync_to_async(session_cookie_for)(collector) for _ in range(2)]
    async with (
        aiohttp.ClientSession(headers={"Cookie": cookies[0]}) as one,
        aiohttp.ClientSession(headers={"Cookie": cookies[1]}) as two,
    ):
        sockets = [await _live(one, server_a), await _live(two, server_b)]
        # when: an admin deactivates the account or resets its password
        from ops.actions import user_reset_password, user_set_active

        if admin_action == "deactivate":
            await database_sync_to_async(user_set_active)(by=sysadmin, user=collector, active=False, reason="离职")
        else:
            await database_sync_to_async(user_reset_password)(by=sysadmin, user=collector)
        # then
        assert [await _closed_with(ws) for ws in sockets] == [4401, 4401]
        # and a new socket is refused (inactive, or a temporary password to change first)
        again = await _open(one, server_b)
        assert await _closed_with(again) == 4401


async def test_idle_expiry_closes_the_socket_on_its_own_and_on_the_next_frame(start_daphne, collector):
    # given: a web process that looks at sessions every second, and two sockets of one session
    server = start_daphne(REALTIME_SESSION_CHECK_SECONDS="1")
    slow = start_daphne()  # checks only every 60 s: the next client frame must notice
    cookie = await database_sync_to_async(session_cookie_for)(collector)
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        watched, framed = await _live(http, server), await _live(http, slow)
        # when: the session's idle time runs out
        from django.contrib.sessions.models import Session

        await database_sync_to_async(
            lambda: Session.objects.update(expire_date=timezone.now() - dt.timedelta(seconds=1))
        )()
        # then
        assert await _closed_with(watched, timeout=10) == 4401
        await framed.send_json({"action": "ping", "t": 2})
        assert await _closed_with(framed, timeout=10) == 4401


async def test_a_user_who_must_change_a_temporary_password_gets_no_socket(start_daphne, collector):
    # given
    server = start_daphne()
    cookie = await database_sync_to_async(session_cookie_for)(collector)
    collector.must_change_password = True
    await database_sync_to_async(collector.save)(update_fields=["must_change_password"])
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        # when
        ws = await _open(http, server)
        # then
        assert await _closed_with(ws) == 4401


# --- item 19: access ends with the case -------------------------------------------------------------------


def _docreq_with_attachment(case, collector, clerk):
    docreq = document_request_open(case=case, by=collector, items=["id_copy"], reason="核对身份")
    message = chat_message_send(
        docreq=docreq, by=clerk, text="身份证复印件", upload=samples.upload("身份证.pdf", samples.pdf())
    )
    return docreq, message


async def _chat(http, base, docreq_id):
    ws = await _open(http, base, f"/ws/chat/{docreq_id}/?after=0")
    while (await _first_json(ws))["type"] != "chat.synced":
        pass
    return ws


async def _next_of_type(ws, wanted: str, timeout: float = 10) -> dict:
    async with asyncio.timeout(timeout):
        while True:
            data = await _first_json(ws, timeout)
            if data["type"] == wanted:
                return data


async def test_a_collector_whose_case_moved_loses_its_chat_attachments_and_live_case_at_once(
    start_daphne, make_case, collector, other_collector, clerk
):
    # given: the collector on the case page (case topic) and in its document-request chat, on process B
    server_a, server_b = start_daphne(), start_daphne()
    case = await database_sync_to_async(make_case)(
        collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS
    )
    docreq, message = await database_sync_to_async(_docreq_with_attachment)(case, collector, clerk)
    cookie = await database_sync_to_async(session_cookie_for)(collector)
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        live = await _open(http, server_b, f"/ws/live/?after=0&topics=case:{case.pk}")
        await _next_of_type(live, "realtime.replayed")
        chat = await _chat(http, server_b, docreq.pk)
        attachment = f"/cases/docreq/{docreq.pk}/files/{message.pk}/"
        assert (await http.get(server_a + attachment)).status == 200
        # when: the clerk moves the case to a colleague
        from cases.actions.assignments import assignment_create
        from cases.models import AssignmentKind, Case

        await database_sync_to_async(
            lambda: assignment_create(
                cases=Case.objects.filter(pk=case.pk),
                collector=other_collector,
                by=clerk,
                kind=AssignmentKind.MOVE,
                reason="调整",
            )
        )()
        # then: the chat closes, the case topic is dropped, the chat page and its attachment are gone
        assert await _closed_with(chat) == 4403
        revoked = await _next_of_type(live, "realtime.revoked")
        assert revoked["topic"] == f"case:{case.pk}"
        for path in (attachment, f"/cases/docreq/{docreq.pk}/"):
            assert (await http.get(server_a + path)).status == 404
        # and a later event of the case no longer reaches the socket (the user's own group still does)
        from realtime import groups
        from realtime.publish import send_groups

        await database_sync_to_async(send_groups)([(groups.case(case.pk), {"type": "case.assigned", "x": 1})])
        assert await _pong(live)
        await live.close()


async def test_a_clerk_whose_bank_was_withdrawn_loses_chat_attachments_and_live_case_at_once(
    start_daphne, make_case, collector, clerk, sysadmin, bank
):
    # given
    server_a, server_b = start_daphne(), start_daphne()
    case = await database_sync_to_async(make_case)(
        collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS
    )
    docreq, message = await database_sync_to_async(_docreq_with_attachment)(case, collector, clerk)
    cookie = await database_sync_to_async(session_cookie_for)(clerk)
    async with aiohttp.ClientSession(headers={"Cookie": cookie}) as http:
        live = await _open(http, server_b, f"/ws/live/?after=0&topics=case:{case.pk}")
        await _next_of_type(live, "realtime.replayed")
        chat = await _chat(http, server_b, docreq.pk)
        attachment = f"/cases/docreq/{docreq.pk}/files/{message.pk}/"
        assert (await http.get(server_a + attachment)).status == 200
        # when: the admin withdraws the clerk's only bank
        from ops.actions import clerk_scopes_set

        await database_sync_to_async(clerk_scopes_set)(by=sysadmin, clerk=clerk, banks=[])
        # then
        assert await _closed_with(chat) == 4403
        assert (await _next_of_type(live, "realtime.revoked"))["topic"] == f"case:{case.pk}"
        for path in (attachment, f"/cases/docreq/{docreq.pk}/"):
            assert (await http.get(server_a + path)).status == 404
        await live.close()
