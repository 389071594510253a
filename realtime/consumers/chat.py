"""ChatConsumer at /ws/chat/<request id>/: the live chat of one document request (R3).

- Connect: the session user must be allowed to see the request (cases.policies), else 4403; joins
  `chat.<request id>`.
- Catch-up: the page connects with `?after=<id of the last message it shows>`; the consumer joins first,
  then replays every stored message after that id, then a `chat.synced` snapshot (status, the other side's
  read mark), so a reload or a reconnect never loses a message. Messages replayed and also heard live are
  sent once (the page de-duplicates by message id as well).
- Client → server: {"type": "send", "text", "client_msg_id"}, {"type": "typing"}, {"type": "read",
  "last_id"}; each is validated, checked against the policy again (a case can move to another collector
  while the page is open) and handed to an action in a thread. Typing is ephemeral; nothing is stored.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from channels.db import database_sync_to_async
from django.db import OperationalError, close_old_connections
from django.http import Http404

from accounts.models import User
from cases.actions.chat import (
    chat_mark_read,
    chat_message_event,
    chat_message_send,
    chat_typing_announce,
    message_side,
)
from cases.exceptions import DomainError
from cases.models import DocumentRequest
from cases.policies import access_document_request, can_post_document_request_message, document_request_side
from cases.selectors.chat import REPLAY_LIMIT, chat_message_list, chat_other_side_read_mark
from realtime import groups
from realtime.consumers.base import AppConsumer
from realtime.consumers.topics import TopicForbidden

logger = logging.getLogger(__name__)

# A browser sends "typing" on every few key presses; pass on at most one per connection per this many seconds.
TYPING_MIN_INTERVAL_S = 2.0
RETRIES = 4

T = TypeVar("T")


def _fetch(user: User, request_id: int) -> DocumentRequest:
    try:
        return access_document_request(user=user, request_id=request_id)
    except Http404 as exc:
        raise TopicForbidden(f"document request {request_id} not visible") from exc


def _replay(user: User, request_id: int, after: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    docreq = _fetch(user, request_id)
    messages = [
        chat_message_event(message=m, docreq=docreq, author_side=message_side(message=m, docreq=docreq)).to_message()
        for m in chat_message_list(docreq=docreq, after=after, limit=REPLAY_LIMIT)
    ]
    side = document_request_side(user=user, docreq=docreq)
    synced = {"type": "chat.synced", "request_id": docreq.pk, "replayed": len(messages),
              "truncated": len(messages) >= REPLAY_LIMIT, "status": docreq.status,
              "status_label": docreq.get_status_display(),
              "other_last_read": chat_other_side_read_mark(docreq=docreq, side=side)}
    return messages, synced


def _participant(user: User, request_id: int) -> DocumentRequest:
    docreq = _fetch(user, request_id)
    if not can_post_document_request_message(user=user, docreq=docreq):
        raise DomainError("您只能查看此对话，不能发言")
    return docreq


def _retrying(fn: Callable[[], T]) -> T:
    """Run `fn`, again after a moment if SQLite (the embedded default) reports the database locked.

    Two people writing at the same moment can make SQLite refuse a transaction that read before it wrote
    ("database is locked", without waiting). Every call here is safe to repeat: a send carries its
    client_msg_id, a read mark only moves forward.
    """
    for attempt in range(RETRIES):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == RETRIES - 1:
                raise
            close_old_connections()
            time.sleep(0.05 * (attempt + 1) + random.random() * 0.05)  # noqa: S311 - jitter, not security
    raise AssertionError("unreachable")


def _send(user: User, request_id: int, text: str, client_msg_id: str) -> dict[str, Any]:
    message = _retrying(lambda: chat_message_send(docreq=_participant(user, request_id), by=user, text=text,
                                                  client_msg_id=client_msg_id))
    return {"type": "chat.ack", "client_msg_id": client_msg_id, "message_id": message.pk}


def _typing(user: User, request_id: int) -> None:
    chat_typing_announce(docreq=_fetch(user, request_id), user=user)


def _read(user: User, request_id: int, last_id: int) -> None:
    _retrying(lambda: chat_mark_read(docreq=_fetch(user, request_id), user=user, last_id=last_id))


class ChatConsumer(AppConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request_id = 0
        self.replayed_ids: set[int] = set()
        self.last_typing = 0.0

    def groups_for(self, user: User) -> list[str]:
        request_id = int(self.scope["url_route"]["kwargs"]["request_id"])
        _fetch(user, request_id)
        self.request_id = request_id
        return [groups.chat(request_id)]

    async def connect(self) -> None:
        await super().connect()
        # AppConsumer replays only when ?after= is given; a page without one still gets the snapshot.
        if self.user is not None and self.joined and not self.query_param("after").isdigit():
            await self.replay(after=0, send_messages=False)

    async def replay(self, *, after: int, send_messages: bool = True) -> None:
        """Replay the request's stored messages after `after` (not the user's outbox: that is /ws/live/'s)."""
        assert self.user is not None
        try:
            messages, synced = await database_sync_to_async(_replay)(self.user, self.request_id, after)
        except TopicForbidden:
            await self.close(code=4403)
            return
        if send_messages:
            for message in messages:
                self.replayed_ids.add(int(message["message_id"]))
                await self.send_json({**message, "replayed": True})
        else:
            synced["replayed"] = 0
        await self.send_json(synced)

    async def recheck_access(self) -> None:
        """The case moved or a bank was withdrawn: a user who may no longer see the request loses its chat."""
        assert self.user is not None
        try:
            await database_sync_to_async(_fetch)(self.user, self.request_id)
        except TopicForbidden:
            await self.end(4403)

    # --- server → client -----------------------------------------------------------------------------

    async def chat_message_posted(self, message: dict[str, Any]) -> None:
        message_id = message.get("message_id")
        if isinstance(message_id, int) and message_id in self.replayed_ids:
            self.replayed_ids.discard(message_id)  # sent once already, by the replay
            return
        await self.send_json(message)

    # chat.read, chat.typing and docreq.status_changed go out as they are (AppConsumer.forward_event).

    # --- client → server -----------------------------------------------------------------------------

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or self.user is None:
            return
        kind = content.get("type")
        if kind not in ("send", "typing", "read"):
            await super().receive_json(content, **kwargs)  # ping and the other generic actions
            return
        client_msg_id = str(content.get("client_msg_id") or "")[:64]
        try:
            if kind == "send":
                text = content.get("text")
                if not isinstance(text, str):
                    raise DomainError("消息格式不正确")
                reply = await database_sync_to_async(_send)(self.user, self.request_id, text, client_msg_id)
                await self.send_json(reply)
            elif kind == "typing":
                now = time.monotonic()
                if now - self.last_typing >= TYPING_MIN_INTERVAL_S:
                    self.last_typing = now
                    await database_sync_to_async(_typing)(self.user, self.request_id)
            else:
                last_id = content.get("last_id")
                if isinstance(last_id, int) and not isinstance(last_id, bool) and last_id > 0:
                    await database_sync_to_async(_read)(self.user, self.request_id, last_id)
        except TopicForbidden:
            # The request is no longer visible to this user (e.g. the case went to a colleague).
            await self.close(code=4403)
        except DomainError as exc:
            await self.send_json({"type": "chat.error", "client_msg_id": client_msg_id, "message": str(exc)})
        except Exception:  # a process edge: one bad message must not kill the socket
            logger.exception("chat %s message of user %s failed", kind, self.user.pk)
            await self.send_json({"type": "chat.error", "client_msg_id": client_msg_id,
                                  "message": "发送失败，请重试"})
