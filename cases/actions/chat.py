"""Document requests and their chat (C8, P9, R3): open a request, post messages, read receipts, status.

Every message is stored before anybody hears of it: the events go out after the commit, to `chat.<request>`
(everyone on the request page) and, stored in the outbox, to the other side's user group (toasts, inbox
badges, catch-up on reconnect). Policies are checked by the adapters (views, the chat consumer); these
functions still refuse what the request's state forbids.
Must not import views or `realtime.consumers`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from cases import history
from cases.actions.notifications import user_events_deliver
from cases.actions.stats import dashboard_publish_deltas
from cases.enums import FileKind
from cases.exceptions import (
    ChatMessageEmptyError,
    ChatMessageTooLongError,
    DocumentRequestClosedError,
    DocumentRequestInvalidError,
    DocumentRequestTransitionError,
    NoClerkForRequestError,
)
from cases.models import (
    Case,
    ChatMessage,
    ChatReadState,
    ClerkBankScope,
    DocumentRequest,
    DocumentRequestStatus,
    RequestedInfo,
)
from cases.policies import SIDE_CLERK, SIDE_COLLECTOR, document_request_side
from cases.uploads import Upload
from realtime import groups
from realtime.events_chat import (
    ChatMessagePosted,
    ChatRead,
    ChatTyping,
    DocumentRequestOpened,
    DocumentRequestStatusChanged,
)
from realtime.publish import publish_on_commit

MESSAGE_MAX_CHARS = 2000
REASON_MAX_CHARS = 1000
ITEMS_OTHER_MAX_CHARS = 200
CLIENT_MSG_ID_MAX = 64


def _iso(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else ""


# --- Who is on the other side ------------------------------------------------------------------------------

def _collector_side_ids(docreq: DocumentRequest) -> list[int]:
    """Who asked, plus the case's current collector if the case has moved on to a colleague since."""
    ids = [docreq.requested_by_id]
    collector_id = docreq.case.collector_id
    if collector_id and collector_id != docreq.requested_by_id:
        ids.append(collector_id)
    return ids


def _other_side_ids(docreq: DocumentRequest, side: str) -> list[int]:
    return _collector_side_ids(docreq) if side == SIDE_CLERK else [docreq.assigned_clerk_id]


def _side_of(user: User, docreq: DocumentRequest) -> str:
    side = document_request_side(user=user, docreq=docreq)
    if side is None:
        raise DocumentRequestTransitionError("只有提出请求的业务员和负责内勤可以在此发言或变更状态")
    return side


# --- Opening a request -------------------------------------------------------------------------------------

def _clerk_for(case: Case) -> tuple[User, str]:
    """The case's owner clerk (C6); without an active one, the clerk of the case's bank with the fewest open
    requests, and a note saying so (shown on the request and on the timeline)."""
    owner = case.owner_clerk
    if owner is not None and owner.is_active and owner.is_clerk:
        return owner, ""
    scopes = (
        ClerkBankScope.objects.filter(bank_id=case.bank_id, clerk__is_active=True, clerk__is_clerk=True)
        .select_related("clerk")
        .annotate(open_requests=Coalesce(Subquery(
            DocumentRequest.objects.filter(assigned_clerk=OuterRef("clerk_id"), status=DocumentRequestStatus.OPEN)
            .order_by().values("assigned_clerk").annotate(n=Count("id")).values("n")[:1]), 0))
        .order_by("open_requests", "clerk_id")
    )
    scope = scopes.first()
    if scope is None:
        raise NoClerkForRequestError(case.bank.name)
    why = "该委案尚未指定负责内勤" if owner is None else f"负责内勤 {owner.display_name} 已不在岗"
    return scope.clerk, f"{why}，已转给负责{case.bank.name}的内勤 {scope.clerk.display_name}"


def _clean_items(items: Iterable[str], items_other: str) -> tuple[list[str], str]:
    chosen = set(items)
    unknown = chosen - set(RequestedInfo.values)
    if unknown:
        raise DocumentRequestInvalidError(f"未知的资料类型：{'、'.join(sorted(unknown))}")
    if not chosen:
        raise DocumentRequestInvalidError("请至少勾选一项需要的资料")
    other = " ".join(items_other.split())
    if RequestedInfo.OTHER in chosen and not other:
        raise DocumentRequestInvalidError("勾选了“其他”，请写明需要什么资料")
    if len(other) > ITEMS_OTHER_MAX_CHARS:
        raise DocumentRequestInvalidError(f"“其他”资料说明最多 {ITEMS_OTHER_MAX_CHARS} 字")
    ordered = [code for code in RequestedInfo.values if code in chosen]
    return ordered, other if RequestedInfo.OTHER in chosen else ""


@transaction.atomic
def document_request_open(*, case: Case, by: User, items: Iterable[str], reason: str,
                          items_other: str = "") -> DocumentRequest:
    """P9/C8: `by` asks for customer documents on `case`; the request goes to the case's owner clerk at once.

    Emits: DocumentRequestOpened → user.<clerk> (stored: toast and inbox, caught up on reconnect);
           DashboardCounterChanged (doc_requests_waiting +1) → the collector's dashboard groups.
    Raises: DocumentRequestInvalidError, NoClerkForRequestError.
    """
    codes, other = _clean_items(items, items_other)
    reason = reason.strip()
    if not reason:
        raise DocumentRequestInvalidError("请说明为什么需要这些资料")
    if len(reason) > REASON_MAX_CHARS:
        raise DocumentRequestInvalidError(f"用途说明最多 {REASON_MAX_CHARS} 字")
    clerk, note = _clerk_for(case)
    docreq = DocumentRequest.objects.create(case=case, requested_by=by, assigned_clerk=clerk, assignment_note=note,
                                           items=codes, items_other=other, reason=reason)
    history.document_request_opened(docreq=docreq, actor=by)
    user_events_deliver(
        event=DocumentRequestOpened(
            request_id=docreq.pk, case_id=case.pk, case_no=case.case_no, debtor_name=case.debtor_name,
            requested_by_id=by.pk, requested_by_name=by.display_name, assigned_clerk_id=clerk.pk,
            items=tuple(docreq.item_labels), reason=reason, created_at=_iso(docreq.created_at)),
        user_ids=[clerk.pk],
    )
    _dashboard_waiting(docreq=docreq, delta=1)
    return docreq


# --- Messages ----------------------------------------------------------------------------------------------

def chat_message_event(*, message: ChatMessage, docreq: DocumentRequest, author_side: str) -> ChatMessagePosted:
    """The event of a stored message (also used to replay history to a reconnecting chat page)."""
    stored = message.attachment
    return ChatMessagePosted(
        request_id=docreq.pk, case_id=docreq.case_id, case_no=docreq.case.case_no,
        debtor_name=docreq.case.debtor_name, message_id=message.pk, author_id=message.author_id,
        author_name=message.author.display_name, author_side=author_side, text=message.text,
        created_at=_iso(message.created_at), client_msg_id=message.client_msg_id,
        attachment_id=stored.pk if stored is not None else None,
        attachment_name=stored.original_name if stored is not None else "",
        attachment_label=stored.type_label if stored is not None else "",
        attachment_size=stored.size if stored is not None else 0,
        attachment_is_image=bool(stored is not None and stored.is_browser_image and not stored.is_deleted),
        status=docreq.status, status_label=docreq.get_status_display(),
    )


def message_side(*, message: ChatMessage, docreq: DocumentRequest) -> str:
    return SIDE_CLERK if message.author_id == docreq.assigned_clerk_id else SIDE_COLLECTOR


def _existing(by: User, client_msg_id: str) -> ChatMessage | None:
    if not client_msg_id:
        return None
    return (ChatMessage.objects.select_related("author", "attachment")
            .filter(author=by, client_msg_id=client_msg_id).first())


@transaction.atomic
def chat_message_send(*, docreq: DocumentRequest, by: User, text: str, client_msg_id: str = "",
                      upload: Upload | None = None) -> ChatMessage:
    """Store a chat message (text and/or an attachment checked like every upload), then broadcast it.

    A retry with the same `client_msg_id` returns the stored message and sends nothing twice. The clerk's
    first reply to an open request marks it answered.
    Emits: ChatMessagePosted → chat.<request>, user.<each of the other side> (stored);
           DocumentRequestStatusChanged → chat.<request>, user.<each participant> (stored) on the first reply.
    Raises: DocumentRequestClosedError, ChatMessageEmptyError, ChatMessageTooLongError, UploadRejectedError,
            DocumentRequestTransitionError (not a participant).
    """
    client_msg_id = client_msg_id.strip()[:CLIENT_MSG_ID_MAX]
    existing = _existing(by, client_msg_id)
    if existing is not None and existing.request_id == docreq.pk:
        return existing
    # Lock the request: a reply and a status change (or two first replies) must not interleave.
    docreq = (DocumentRequest.objects.select_for_update(of=("self",))
              .select_related("case", "assigned_clerk", "requested_by").get(pk=docreq.pk))
    side = _side_of(by, docreq)
    if docreq.status == DocumentRequestStatus.CLOSED:
        raise DocumentRequestClosedError()
    text = text.strip()
    if not text and upload is None:
        raise ChatMessageEmptyError()
    if len(text) > MESSAGE_MAX_CHARS:
        raise ChatMessageTooLongError(MESSAGE_MAX_CHARS)
    stored = None
    if upload is not None:
        # The same content and size checks as every other upload; the file joins the case's files.
        from cases.actions.files import file_upload

        stored = file_upload(case=docreq.case, kind=FileKind.ATTACHMENT, upload=upload, by=by)
    try:
        with transaction.atomic():
            message = ChatMessage.objects.create(request=docreq, author=by, text=text, attachment=stored,
                                                 client_msg_id=client_msg_id)
    except IntegrityError:
        # A concurrent retry of the same message won the race: hand back what it stored.
        existing = _existing(by, client_msg_id)
        if existing is None:
            raise
        return existing
    message.author = by
    now = timezone.now()
    docreq.last_message_at = now
    fields = ["last_message_at"]
    previous = docreq.status
    if side == SIDE_CLERK and previous == DocumentRequestStatus.OPEN:
        docreq.status, docreq.answered_at = DocumentRequestStatus.ANSWERED, now
        fields += ["status", "answered_at"]
    docreq.save(update_fields=fields)
    # Whoever writes has read the chat up to their own message.
    _advance_read(docreq=docreq, user=by, last_id=message.pk)
    event = chat_message_event(message=message, docreq=docreq, author_side=side)
    publish_on_commit(event, to=[groups.chat(docreq.pk)])
    user_events_deliver(event=event, user_ids=_other_side_ids(docreq, side))
    if docreq.status != previous:
        _status_changed(docreq=docreq, by=by, previous=previous, at=now)
    return message


# --- Read receipts -----------------------------------------------------------------------------------------

def _advance_read(*, docreq: DocumentRequest, user: User, last_id: int) -> bool:
    """Move `user`'s read mark forward to `last_id` (never back). True if it moved."""
    state, _ = ChatReadState.objects.get_or_create(request=docreq, user=user)
    if last_id <= state.last_read_message_id:
        return False
    moved = ChatReadState.objects.filter(pk=state.pk, last_read_message_id__lt=last_id).update(
        last_read_message_id=last_id, updated_at=timezone.now())
    return bool(moved)


def unread_count(*, docreq: DocumentRequest, user: User) -> int:
    last = ChatReadState.objects.filter(request=docreq, user=user).values_list("last_read_message_id", flat=True)
    after = last[0] if last else 0
    return ChatMessage.objects.filter(request=docreq, id__gt=after).exclude(author=user).count()


@transaction.atomic
def chat_mark_read(*, docreq: DocumentRequest, user: User, last_id: int) -> int | None:
    """`user` has read the chat up to message `last_id`: tell the other side (read ticks) and the user's tabs.

    Readers who are not a side (managers) leave no receipt. Returns the read mark, or None if nothing moved.
    Emits: ChatRead → chat.<request>, user.<user> (other tabs' inbox counts).
    Raises: nothing.
    """
    side = document_request_side(user=user, docreq=docreq)
    if side is None:
        return None
    newest = ChatMessage.objects.filter(request=docreq).aggregate(m=Max("id"))["m"] or 0
    last_id = min(int(last_id), newest)
    if last_id <= 0 or not _advance_read(docreq=docreq, user=user, last_id=last_id):
        return None
    publish_on_commit(
        ChatRead(request_id=docreq.pk, user_id=user.pk, side=side, last_read_message_id=last_id,
                 unread_count=unread_count(docreq=docreq, user=user)),
        to=[groups.chat(docreq.pk), groups.user(user.pk)],
    )
    return last_id


def chat_typing_announce(*, docreq: DocumentRequest, user: User) -> None:
    """Tell the chat that `user` is typing. Ephemeral: nothing is stored, nothing is replayed.

    Emits: ChatTyping → chat.<request>.
    Raises: nothing.
    """
    side = document_request_side(user=user, docreq=docreq)
    if side is None or docreq.status == DocumentRequestStatus.CLOSED:
        return
    publish_on_commit(ChatTyping(request_id=docreq.pk, user_id=user.pk, user_name=user.display_name, side=side),
                      to=[groups.chat(docreq.pk)])


# --- Status ------------------------------------------------------------------------------------------------

# (from, to) → the sides allowed to make the move, and the message for anybody else.
_TRANSITIONS: dict[tuple[str, str], tuple[frozenset[str], str]] = {
    (DocumentRequestStatus.OPEN, DocumentRequestStatus.ANSWERED): (
        frozenset({SIDE_CLERK}), "只有负责内勤可以标记为已答复"),
    (DocumentRequestStatus.OPEN, DocumentRequestStatus.CLOSED): (
        frozenset({SIDE_CLERK, SIDE_COLLECTOR}), ""),
    (DocumentRequestStatus.ANSWERED, DocumentRequestStatus.CLOSED): (
        frozenset({SIDE_CLERK, SIDE_COLLECTOR}), ""),
    (DocumentRequestStatus.ANSWERED, DocumentRequestStatus.OPEN): (
        frozenset({SIDE_COLLECTOR}), "只有业务员可以表示资料仍未解决、重新打开请求"),
    (DocumentRequestStatus.CLOSED, DocumentRequestStatus.OPEN): (
        frozenset({SIDE_COLLECTOR}), "只有业务员可以重新打开已关闭的请求"),
}


def _dashboard_waiting(*, docreq: DocumentRequest, delta: int) -> None:
    """M7: the managers' dashboard counts requests waiting for the clerk per collector (live-only column,
    counted from the table on page load; here only the move is published)."""
    dashboard_publish_deltas(collector_id=docreq.requested_by_id, deltas={"doc_requests_waiting": delta})


def _status_changed(*, docreq: DocumentRequest, by: User, previous: str, at: object) -> None:
    history.document_request_status_changed(docreq=docreq, actor=by, previous=previous)
    was_waiting, waiting = previous == DocumentRequestStatus.OPEN, docreq.status == DocumentRequestStatus.OPEN
    if was_waiting != waiting:
        _dashboard_waiting(docreq=docreq, delta=1 if waiting else -1)
    event = DocumentRequestStatusChanged(
        request_id=docreq.pk, case_id=docreq.case_id, case_no=docreq.case.case_no, status=docreq.status,
        status_label=docreq.get_status_display(), previous_status=previous, by_id=by.pk,
        by_name=by.display_name, changed_at=_iso(at))
    publish_on_commit(event, to=[groups.chat(docreq.pk)])
    user_events_deliver(event=event, user_ids=[*_collector_side_ids(docreq), docreq.assigned_clerk_id])


@transaction.atomic
def document_request_set_status(*, docreq: DocumentRequest, by: User, status: str) -> DocumentRequest:
    """Move a request between 待答复, 已答复 and 已关闭: the clerk answers, either side closes, the collector
    reopens.

    Emits: DocumentRequestStatusChanged → chat.<request>, user.<each participant> (stored);
           DashboardCounterChanged (doc_requests_waiting ±1) when the request leaves or re-enters 待答复.
    Raises: DocumentRequestTransitionError.
    """
    docreq = (DocumentRequest.objects.select_for_update(of=("self",))
              .select_related("case", "assigned_clerk", "requested_by").get(pk=docreq.pk))
    side = _side_of(by, docreq)
    previous = docreq.status
    labels = dict(DocumentRequestStatus.choices)
    if status not in labels:
        raise DocumentRequestTransitionError(f"未知的状态：{status}")
    if status == previous:
        raise DocumentRequestTransitionError(f"该资料请求已经是“{labels[status]}”")
    rule = _TRANSITIONS.get((previous, status))
    if rule is None:
        raise DocumentRequestTransitionError(f"不能从“{labels[previous]}”变为“{labels[status]}”")
    sides, refusal = rule
    if side not in sides:
        raise DocumentRequestTransitionError(refusal)
    now = timezone.now()
    docreq.status = status
    if status == DocumentRequestStatus.ANSWERED:
        docreq.answered_at = now
    elif status == DocumentRequestStatus.CLOSED:
        docreq.closed_at = now
    else:
        docreq.closed_at = None
    docreq.save(update_fields=["status", "answered_at", "closed_at"])
    _status_changed(docreq=docreq, by=by, previous=previous, at=now)
    return docreq
