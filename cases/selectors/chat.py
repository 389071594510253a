"""Reads of document requests and their chat: the clerk's inbox, the collector's list, a case's requests,
messages after an id (history and reconnect replay), read marks and unread counts.

Must not import views or `realtime`.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce

from accounts.models import User
from cases.models import Case, ChatMessage, ChatReadState, ClerkBankScope, DocumentRequest, DocumentRequestStatus
from cases.policies import SIDE_CLERK

# The request page shows at most this many of the newest messages; older ones load on demand.
HISTORY_LIMIT = 300
REPLAY_LIMIT = 500

_RELATED = ("case", "case__bank", "requested_by", "assigned_clerk")


def _with_unread(qs: QuerySet[DocumentRequest], *, user: User | None) -> QuerySet[DocumentRequest]:
    """Annotate `unread`: messages of others after the reader's read mark (one subquery per row, indexed).

    `user=None` reads as the request's assigned clerk: what managers see (they leave no read marks of their
    own, so "unread for the manager" would count every message; "unread by the clerk" is what they watch).
    """
    reader = OuterRef("assigned_clerk") if user is None else user
    last_read = ChatReadState.objects.filter(request=OuterRef("pk"), user=reader).values("last_read_message_id")[:1]
    unread = (
        ChatMessage.objects.filter(request=OuterRef("pk"), id__gt=Coalesce(OuterRef("my_last_read"), 0))
        .exclude(author=OuterRef("assigned_clerk") if user is None else user)
        .order_by()
        .values("request")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return qs.annotate(my_last_read=Coalesce(Subquery(last_read), 0)).annotate(
        unread=Coalesce(Subquery(unread, output_field=IntegerField()), 0))


def document_request_list_for_inbox(*, user: User, show: str = "active") -> QuerySet[DocumentRequest]:
    """C8: the clerk's inbox (managers see every clerk's). `show`: "active" (待答复 first, oldest first, then
    已答复), "closed", or "all"."""
    qs = DocumentRequest.objects.all()
    if not user.is_manager:
        # Only requests of banks the clerk still handles: access ends with the bank (C7).
        qs = qs.filter(assigned_clerk=user,
                       case__bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id"))
    if show == "closed":
        qs = qs.filter(status=DocumentRequestStatus.CLOSED).order_by("-closed_at", "-id")
    elif show == "all":
        qs = qs.order_by("-created_at", "-id")
    else:
        open_first = models.Case(When(status=DocumentRequestStatus.OPEN, then=Value(0)), default=Value(1),
                           output_field=IntegerField())
        qs = qs.exclude(status=DocumentRequestStatus.CLOSED).annotate(open_first=open_first).order_by(
            "open_first", "created_at", "id")
    return _with_unread(qs.select_related(*_RELATED), user=None if user.is_manager else user)


def document_request_list_for_collector(*, user: User, show: str = "active") -> QuerySet[DocumentRequest]:
    """P9: the requests of the cases the collector now works (whoever opened them): a request of a case that
    moved to a colleague goes with the case."""
    qs = DocumentRequest.objects.filter(case__collector=user)
    if show == "closed":
        qs = qs.filter(status=DocumentRequestStatus.CLOSED)
    elif show != "all":
        qs = qs.exclude(status=DocumentRequestStatus.CLOSED)
    return _with_unread(qs.select_related(*_RELATED).order_by("-created_at", "-id"), user=user)


def document_request_list_for_case(*, case: Case, user: User) -> QuerySet[DocumentRequest]:
    """The requests of one case `user` may see (managers: all; others: those they are a side of)."""
    qs = DocumentRequest.objects.filter(case=case)
    if not user.is_manager:
        # `case` is visible to `user` (the caller fetched it through access_case): the sides of today.
        qs = qs.filter(Q(assigned_clerk=user) | Q(case__collector=user))
    return _with_unread(qs.select_related(*_RELATED).order_by("-created_at", "-id"), user=user)


def document_request_count_waiting(*, user: User) -> int:
    """Open requests waiting for this clerk's answer (the inbox badge)."""
    return DocumentRequest.objects.filter(
        assigned_clerk=user, status=DocumentRequestStatus.OPEN,
        case__bank_id__in=ClerkBankScope.objects.filter(clerk=user).values("bank_id")).count()


def chat_message_list(*, docreq: DocumentRequest, after: int = 0, limit: int = HISTORY_LIMIT) -> list[ChatMessage]:
    """Messages of a request, oldest first: the newest `limit` of them when `after` is 0, otherwise the first
    `limit` after message `after` (a reconnecting page's replay)."""
    qs = ChatMessage.objects.filter(request=docreq).select_related("author", "attachment")
    if after > 0:
        return list(qs.filter(id__gt=after).order_by("id")[:limit])
    newest = list(qs.order_by("-id")[:limit])
    newest.reverse()
    return newest


def chat_message_get(*, docreq: DocumentRequest, message_id: int) -> ChatMessage | None:
    return ChatMessage.objects.select_related("author", "attachment").filter(request=docreq, pk=message_id).first()


def chat_read_mark(*, docreq: DocumentRequest, user: User) -> int:
    row = ChatReadState.objects.filter(request=docreq, user=user).values_list("last_read_message_id", flat=True)
    return row[0] if row else 0


def chat_other_side_read_mark(*, docreq: DocumentRequest, side: str | None) -> int:
    """How far the other side has read (for the 已读/未读 ticks under my messages). A manager reading along
    sees the marks as the collector sees them (how far the clerk has read)."""
    collector_side = [docreq.requested_by_id, docreq.case.collector_id]
    ids = collector_side if side == SIDE_CLERK else [docreq.assigned_clerk_id]
    marks = ChatReadState.objects.filter(request=docreq, user_id__in=[i for i in ids if i]).values_list(
        "last_read_message_id", flat=True)
    return max(marks, default=0)


def waiting_text(since: dt.datetime, now: dt.datetime) -> str:
    """"等待 3 小时 12 分" — how long a request has waited, in the words a clerk uses."""
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"等待 {days} 天 {hours} 小时"
    if hours:
        return f"等待 {hours} 小时 {mins} 分"
    return f"等待 {mins} 分钟" if mins else "刚刚提交"
