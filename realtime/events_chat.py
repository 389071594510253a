"""Typed events of document requests and their chat (C8, P9, R3), registered in realtime.events' registry.

Sent to `chat.<request id>` (everyone on the request page) and, for what a participant must not miss, to the
other side's `user.<id>` group as stored events (inbox badges, toasts, catch-up on reconnect).
Must not import models, the ORM or anything of `cases`: events carry ids and primitives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from realtime.events import Event, register


@register
@dataclass(frozen=True, kw_only=True)
class ChatMessagePosted(Event):
    """A message (text and/or attachment) was stored in a request's chat."""

    type: ClassVar[str] = "chat.message_posted"
    request_id: int
    case_id: int
    case_no: str
    debtor_name: str
    message_id: int
    author_id: int
    author_name: str
    author_side: str  # "collector" or "clerk"
    text: str
    created_at: str  # ISO-8601 UTC
    client_msg_id: str = ""
    attachment_id: int | None = None
    attachment_name: str = ""
    attachment_label: str = ""  # detected format, e.g. "PDF 文档"
    attachment_size: int = 0
    attachment_is_image: bool = False
    status: str  # DocumentRequestStatus value after the message (a clerk's first reply answers it)
    status_label: str


@register
@dataclass(frozen=True, kw_only=True)
class ChatRead(Event):
    """A participant read the chat up to `last_read_message_id` (read receipts for the other side)."""

    type: ClassVar[str] = "chat.read"
    request_id: int
    user_id: int
    side: str  # "collector" or "clerk"
    last_read_message_id: int
    unread_count: int  # the reader's unread messages on this request afterwards (0 when read to the end)


@register
@dataclass(frozen=True, kw_only=True)
class ChatTyping(Event):
    """Someone is typing in a request's chat. Ephemeral: never stored, never replayed."""

    type: ClassVar[str] = "chat.typing"
    request_id: int
    user_id: int
    user_name: str
    side: str


@register
@dataclass(frozen=True, kw_only=True)
class DocumentRequestOpened(Event):
    """A collector asked for customer documents; stored for the assigned clerk (toast, inbox)."""

    type: ClassVar[str] = "docreq.opened"
    request_id: int
    case_id: int
    case_no: str
    debtor_name: str
    requested_by_id: int
    requested_by_name: str
    assigned_clerk_id: int
    items: tuple[str, ...]  # labels, e.g. ("身份证复印件", "其他：工资流水")
    reason: str
    created_at: str  # ISO-8601 UTC


@register
@dataclass(frozen=True, kw_only=True)
class DocumentRequestStatusChanged(Event):
    """A request moved between 待答复, 已答复 and 已关闭."""

    type: ClassVar[str] = "docreq.status_changed"
    request_id: int
    case_id: int
    case_no: str
    status: str  # DocumentRequestStatus value
    status_label: str
    previous_status: str
    by_id: int
    by_name: str
    changed_at: str  # ISO-8601 UTC
