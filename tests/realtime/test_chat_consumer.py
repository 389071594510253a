"""The chat websocket of a document request: policy on connect, live messages both ways, replay on reconnect.

Runs over whatever channel layer the environment configures: the in-memory layer by default, real Redis
(channels-redis) when REDIS_URL is set.
"""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from cases.actions.chat import chat_message_send, document_request_open
from cases.enums import CaseStatus
from cases.models import ChatMessage, UserEvent
from realtime.consumers.base import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def docreq(make_case, collector, clerk):
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS)
    return document_request_open(case=case, by=collector, items=["id_copy"], reason="核对身份")


async def receive_type(ws, wanted, timeout=3):
    """The next message of type `wanted`, skipping others (acks, receipts)."""
    while True:
        message = await ws.receive_json_from(timeout=timeout)
        if message["type"] == wanted:
            return message


async def test_chat_consumer_refuses_an_outsider(fresh_layer, ws_connect, docreq, other_collector):
    # given / when
    ws = await ws_connect(other_collector, f"/ws/chat/{docreq.pk}/")
    # then
    assert await ws.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_chat_consumer_refuses_an_unknown_request(fresh_layer, ws_connect, docreq, clerk):
    # given / when
    ws = await ws_connect(clerk, f"/ws/chat/{docreq.pk + 1000}/")
    # then
    assert await ws.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_FORBIDDEN}


async def test_chat_consumer_refuses_anonymous(fresh_layer, ws_connect, docreq):
    # given / when
    ws = await ws_connect(None, f"/ws/chat/{docreq.pk}/")
    # then
    assert await ws.receive_output(timeout=3) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


async def test_chat_consumer_carries_a_message_from_one_side_to_the_other(fresh_layer, ws_connect, docreq,
                                                                          collector, clerk):
    # given
    collector_ws = await ws_connect(collector, f"/ws/chat/{docreq.pk}/?after=0")
    clerk_ws = await ws_connect(clerk, f"/ws/chat/{docreq.pk}/?after=0")
    await receive_type(collector_ws, "chat.synced")
    await receive_type(clerk_ws, "chat.synced")
    # when
    await collector_ws.send_json_to({"type": "send", "text": "请提供身份证复印件", "client_msg_id": "m-1"})
    # then
    ack = await receive_type(collector_ws, "chat.ack")
    received = await receive_type(clerk_ws, "chat.message_posted")
    assert received["text"] == "请提供身份证复印件" and received["message_id"] == ack["message_id"]
    assert received["author_id"] == collector.pk and received["author_side"] == "collector"
    stored = await database_sync_to_async(ChatMessage.objects.get)(pk=ack["message_id"])
    assert stored.client_msg_id == "m-1"


async def test_chat_consumer_answers_and_sends_read_receipts_and_typing(fresh_layer, ws_connect, docreq,
                                                                        collector, clerk):
    # given
    collector_ws = await ws_connect(collector, f"/ws/chat/{docreq.pk}/?after=0")
    clerk_ws = await ws_connect(clerk, f"/ws/chat/{docreq.pk}/?after=0")
    await receive_type(collector_ws, "chat.synced")
    await receive_type(clerk_ws, "chat.synced")
    # when: the clerk types, replies, and the collector reads it
    await clerk_ws.send_json_to({"type": "typing"})
    typing = await receive_type(collector_ws, "chat.typing")
    await clerk_ws.send_json_to({"type": "send", "text": "已上传", "client_msg_id": "c-1"})
    posted = await receive_type(collector_ws, "chat.message_posted")
    status = await receive_type(collector_ws, "docreq.status_changed")
    await collector_ws.send_json_to({"type": "read", "last_id": posted["message_id"]})
    receipt = await receive_type(clerk_ws, "chat.read")
    # then
    assert typing["user_id"] == clerk.pk and typing["side"] == "clerk"
    assert posted["status"] == "answered" and status["status"] == "answered"
    assert receipt["user_id"] == collector.pk and receipt["last_read_message_id"] == posted["message_id"]
    # typing left nothing behind; the message and the status change were stored for the other side
    assert not await database_sync_to_async(UserEvent.objects.filter(type="chat.typing").exists)()


async def test_chat_consumer_replays_messages_missed_while_disconnected(fresh_layer, ws_connect, docreq,
                                                                       collector, clerk):
    # given: the clerk saw the first message, then lost the connection
    first = await database_sync_to_async(chat_message_send)(docreq=docreq, by=collector, text="第一条")
    clerk_ws = await ws_connect(clerk, f"/ws/chat/{docreq.pk}/?after={first.pk}")
    await receive_type(clerk_ws, "chat.synced")
    await clerk_ws.disconnect()
    # when: two messages arrive meanwhile, and the clerk reconnects from the last id it saw
    second = await database_sync_to_async(chat_message_send)(docreq=docreq, by=collector, text="第二条")
    third = await database_sync_to_async(chat_message_send)(docreq=docreq, by=collector, text="第三条",
                                                             client_msg_id="x")
    clerk_ws = await ws_connect(clerk, f"/ws/chat/{docreq.pk}/?after={first.pk}")
    # then: exactly the missed ones, in order, then the snapshot
    replayed = [await clerk_ws.receive_json_from(timeout=3) for _ in range(3)]
    assert [m["type"] for m in replayed] == ["chat.message_posted", "chat.message_posted", "chat.synced"]
    assert [m["message_id"] for m in replayed[:2]] == [second.pk, third.pk]
    assert all(m["replayed"] for m in replayed[:2]) and replayed[2]["status"] == "open"
    assert await clerk_ws.receive_nothing(timeout=0.3)


async def test_chat_consumer_lets_a_manager_read_but_not_write(fresh_layer, ws_connect, docreq, manager):
    # given
    ws = await ws_connect(manager, f"/ws/chat/{docreq.pk}/?after=0")
    await receive_type(ws, "chat.synced")
    # when
    await ws.send_json_to({"type": "send", "text": "经理插话", "client_msg_id": "mgr-1"})
    # then
    error = await receive_type(ws, "chat.error")
    assert error["client_msg_id"] == "mgr-1" and "不能发言" in error["message"]
    assert not await database_sync_to_async(ChatMessage.objects.exists)()


async def test_chat_consumer_reports_a_refused_message(fresh_layer, ws_connect, docreq, collector):
    # given
    ws = await ws_connect(collector, f"/ws/chat/{docreq.pk}/?after=0")
    await receive_type(ws, "chat.synced")
    # when
    await ws.send_json_to({"type": "send", "text": "   ", "client_msg_id": "empty-1"})
    # then
    error = await receive_type(ws, "chat.error")
    assert error == {"type": "chat.error", "client_msg_id": "empty-1", "message": "请输入消息内容或选择附件"}
