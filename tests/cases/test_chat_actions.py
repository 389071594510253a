from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from cases.actions.chat import (
    chat_mark_read,
    chat_message_send,
    chat_typing_announce,
    document_request_open,
    document_request_set_status,
)
from cases.enums import CaseEventType, CaseStatus, FileKind
from cases.exceptions import (
    ChatMessageEmptyError,
    ChatMessageTooLongError,
    DocumentRequestClosedError,
    DocumentRequestInvalidError,
    DocumentRequestTransitionError,
    NoClerkForRequestError,
    UploadRejectedError,
)
from cases.models import CaseEvent, ChatMessage, DocumentRequest, DocumentRequestStatus, StoredFile, UserEvent
from cases.policies import access_document_request, can_view_document_request
from cases.selectors.chat import document_request_list_for_inbox, waiting_text
from realtime import groups
from realtime.events import DashboardCounterChanged
from realtime.events_chat import ChatMessagePosted, ChatRead, ChatTyping, DocumentRequestOpened
from tests import factories as f
from tests.cases.samples import media_root, pdf  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(make_case, collector, clerk):
    return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS)


def _open(case, collector, **overrides):
    values = {"items": ["id_copy", "loan_contract"], "reason": "客户称已还款，需要核对借款合同"}
    values.update(overrides)
    return document_request_open(case=case, by=collector, **values)


# --- Opening --------------------------------------------------------------------------------------------------

def test_document_request_open_goes_to_the_owner_clerk_as_a_stored_event(
        case, collector, clerk, published, django_capture_on_commit_callbacks):
    # given / when
    with django_capture_on_commit_callbacks(execute=True):
        docreq = _open(case, collector)
    # then
    assert docreq.assigned_clerk == clerk and docreq.status == DocumentRequestStatus.OPEN
    assert docreq.item_labels == ["身份证复印件", "借款合同"]
    stored = UserEvent.objects.get(user=clerk, type="docreq.opened")
    [message] = published.messages_to(groups.user(clerk.pk))
    assert message["event_id"] == stored.pk
    [event] = published.sent_to(groups.user(clerk.pk))
    assert isinstance(event, DocumentRequestOpened)
    assert event.request_id == docreq.pk and event.items == ("身份证复印件", "借款合同")
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.DOCREQ_OPENED).exists()


def test_document_request_open_falls_back_to_a_clerk_of_the_bank_when_the_case_has_no_owner(
        make_case, collector, clerk):
    # given
    case = make_case(collector=collector, owner_clerk=None, status=CaseStatus.IN_PROGRESS)
    # when
    docreq = _open(case, collector)
    # then
    assert docreq.assigned_clerk == clerk
    assert "尚未指定负责内勤" in docreq.assignment_note and clerk.display_name in docreq.assignment_note


def test_document_request_open_falls_back_when_the_owner_clerk_has_left(make_case, collector, clerk, bank):
    # given
    departed = f.ClerkFactory(full_name="离职内勤", is_active=False)
    case = make_case(collector=collector, owner_clerk=departed)
    # when
    docreq = _open(case, collector)
    # then
    assert docreq.assigned_clerk == clerk and "离职内勤 已不在岗" in docreq.assignment_note


def test_document_request_open_refuses_when_the_bank_has_no_clerk(make_case, collector, other_bank):
    # given
    case = make_case(collector=collector, bank=other_bank)
    # when / then
    with pytest.raises(NoClerkForRequestError):
        _open(case, collector)
    assert not DocumentRequest.objects.exists()


@pytest.mark.parametrize(("overrides", "message"), [
    ({"items": []}, "请至少勾选一项"),
    ({"items": ["other"]}, "请写明需要什么资料"),
    ({"items": ["passport"]}, "未知的资料类型"),
    ({"reason": "   "}, "请说明为什么需要这些资料"),
])
def test_document_request_open_refuses_incomplete_requests(case, collector, overrides, message):
    # given / when / then
    with pytest.raises(DocumentRequestInvalidError, match=message):
        _open(case, collector, **overrides)


def test_document_request_open_keeps_the_other_text_only_with_other(case, collector):
    # given / when
    docreq = _open(case, collector, items=["other", "address"], items_other="近六个月工资流水")
    # then
    assert docreq.items == ["address", "other"]
    assert docreq.item_labels == ["住址信息", "其他：近六个月工资流水"]


# --- Messages -------------------------------------------------------------------------------------------------

def test_chat_message_send_stores_the_message_before_anything_is_published(
        case, collector, clerk, published, django_capture_on_commit_callbacks, monkeypatch):
    # given
    docreq = _open(case, collector)
    seen_rows_at_publish = []
    original = published.__call__

    def recorder(deliveries):
        seen_rows_at_publish.append(ChatMessage.objects.filter(request=docreq).count())
        original(deliveries)

    import realtime.publish

    monkeypatch.setattr(realtime.publish, "send_groups", recorder)
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = chat_message_send(docreq=docreq, by=collector, text="请尽快提供", client_msg_id="c-1")
    # then: nothing was sent inside the transaction; the callbacks find the row stored
    assert published.deliveries == []
    for callback in callbacks:
        callback()
    assert seen_rows_at_publish and all(n == 1 for n in seen_rows_at_publish)
    [event] = published.sent_to(groups.chat(docreq.pk))
    assert isinstance(event, ChatMessagePosted)
    assert (event.message_id, event.text, event.author_side, event.client_msg_id) == (
        message.pk, "请尽快提供", "collector", "c-1")
    # the clerk's inbox hears of it as a stored event
    assert [type(e) for e in published.sent_to(groups.user(clerk.pk))] == [ChatMessagePosted]
    assert UserEvent.objects.filter(user=clerk, type="chat.message_posted").count() == 1


def test_chat_message_send_with_the_same_client_id_stores_and_sends_once(
        case, collector, published, django_capture_on_commit_callbacks):
    # given
    docreq = _open(case, collector)
    # when: the browser retries after a dropped connection
    with django_capture_on_commit_callbacks(execute=True):
        first = chat_message_send(docreq=docreq, by=collector, text="在吗", client_msg_id="retry-1")
        again = chat_message_send(docreq=docreq, by=collector, text="在吗", client_msg_id="retry-1")
    # then
    assert first.pk == again.pk
    assert ChatMessage.objects.filter(request=docreq).count() == 1
    assert len(published.sent_to(groups.chat(docreq.pk))) == 1


def test_chat_message_send_by_the_clerk_answers_an_open_request(
        case, collector, clerk, published, django_capture_on_commit_callbacks):
    # given
    docreq = _open(case, collector)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        chat_message_send(docreq=docreq, by=clerk, text="合同已上传")
    # then
    docreq.refresh_from_db()
    assert docreq.status == DocumentRequestStatus.ANSWERED and docreq.answered_at is not None
    types = [m["type"] for m in published.messages_to(groups.chat(docreq.pk))]
    assert types == ["chat.message_posted", "docreq.status_changed"]
    assert published.sent_to(groups.chat(docreq.pk))[0].status == "answered"
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.DOCREQ_STATUS_CHANGED).count() == 1


def test_chat_message_send_by_the_collector_leaves_the_request_open(case, collector):
    # given
    docreq = _open(case, collector)
    # when
    chat_message_send(docreq=docreq, by=collector, text="补充：还要通话清单")
    # then
    docreq.refresh_from_db()
    assert docreq.status == DocumentRequestStatus.OPEN


def test_chat_message_send_is_refused_on_a_closed_request(case, collector):
    # given
    docreq = _open(case, collector)
    document_request_set_status(docreq=docreq, by=collector, status="closed")
    # when / then
    with pytest.raises(DocumentRequestClosedError):
        chat_message_send(docreq=docreq, by=collector, text="还在吗")


@pytest.mark.parametrize(("text", "error"), [("   ", ChatMessageEmptyError), ("长" * 2001, ChatMessageTooLongError)])
def test_chat_message_send_refuses_empty_and_overlong_text(case, collector, text, error):
    # given
    docreq = _open(case, collector)
    # when / then
    with pytest.raises(error):
        chat_message_send(docreq=docreq, by=collector, text=text)


def test_chat_message_send_refuses_someone_who_is_not_a_side(case, collector, manager):
    # given
    docreq = _open(case, collector)
    # when / then
    with pytest.raises(DocumentRequestTransitionError):
        chat_message_send(docreq=docreq, by=manager, text="我来说两句")


def test_chat_message_send_stores_a_checked_attachment_among_the_case_files(
        case, collector, clerk, media_root, published, django_capture_on_commit_callbacks):  # noqa: F811
    # given
    docreq = _open(case, collector)
    upload = SimpleUploadedFile("借款合同.pdf", pdf(), content_type="application/octet-stream")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        message = chat_message_send(docreq=docreq, by=clerk, text="", upload=upload)
    # then
    stored = message.attachment
    assert stored.case == case and stored.kind == FileKind.ATTACHMENT and stored.content_type == "application/pdf"
    event = published.sent_to(groups.chat(docreq.pk))[0]
    assert (event.attachment_id, event.attachment_name, event.attachment_label) == (stored.pk, "借款合同.pdf",
                                                                                    "PDF 文档")


def test_chat_message_send_refuses_an_attachment_that_fails_the_upload_check(case, collector, clerk,
                                                                          media_root):  # noqa: F811
    # given
    docreq = _open(case, collector)
    upload = SimpleUploadedFile("合同.pdf", b"MZ\x90\x00" + b"\x00" * 64)
    # when / then
    with pytest.raises(UploadRejectedError, match="Windows 程序"):
        chat_message_send(docreq=docreq, by=clerk, text="见附件", upload=upload)
    assert not ChatMessage.objects.exists() and not StoredFile.objects.exists()


# --- Read receipts and typing ---------------------------------------------------------------------------------

def test_chat_mark_read_sends_a_receipt_to_the_chat_and_never_moves_back(
        case, collector, clerk, published, django_capture_on_commit_callbacks):
    # given
    docreq = _open(case, collector)
    first = chat_message_send(docreq=docreq, by=collector, text="一")
    second = chat_message_send(docreq=docreq, by=collector, text="二")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        mark = chat_mark_read(docreq=docreq, user=clerk, last_id=second.pk)
        again = chat_mark_read(docreq=docreq, user=clerk, last_id=first.pk)
    # then
    assert (mark, again) == (second.pk, None)
    receipts = [e for e in published.sent_to(groups.chat(docreq.pk)) if isinstance(e, ChatRead)]
    assert receipts == [ChatRead(request_id=docreq.pk, user_id=clerk.pk, side="clerk",
                                 last_read_message_id=second.pk, unread_count=0)]
    assert [e for e in published.sent_to(groups.user(clerk.pk)) if isinstance(e, ChatRead)] == receipts


def test_chat_mark_read_by_a_manager_leaves_no_receipt(case, collector, manager):
    # given
    docreq = _open(case, collector)
    message = chat_message_send(docreq=docreq, by=collector, text="一")
    # when / then
    assert chat_mark_read(docreq=docreq, user=manager, last_id=message.pk) is None


def test_unread_counts_follow_the_read_mark(case, collector, clerk):
    # given
    docreq = _open(case, collector)
    chat_message_send(docreq=docreq, by=collector, text="一")
    second = chat_message_send(docreq=docreq, by=collector, text="二")
    # when
    before = document_request_list_for_inbox(user=clerk).get(pk=docreq.pk).unread
    chat_mark_read(docreq=docreq, user=clerk, last_id=second.pk)
    after = document_request_list_for_inbox(user=clerk).get(pk=docreq.pk).unread
    # then
    assert (before, after) == (2, 0)


def test_inbox_for_managers_counts_what_the_clerk_has_not_read(case, collector, clerk, manager):
    # given: two collector messages, the clerk has read the first and answered
    docreq = _open(case, collector)
    first = chat_message_send(docreq=docreq, by=collector, text="一")
    chat_message_send(docreq=docreq, by=collector, text="二")
    chat_mark_read(docreq=docreq, user=clerk, last_id=first.pk)
    chat_message_send(docreq=docreq, by=clerk, text="答复")
    # when
    row = document_request_list_for_inbox(user=manager).get(pk=docreq.pk)
    # then: the clerk's own reply marked everything before it read
    assert row.unread == 0
    chat_message_send(docreq=docreq, by=collector, text="三")
    assert document_request_list_for_inbox(user=manager).get(pk=docreq.pk).unread == 1


def test_chat_typing_announce_is_sent_but_not_stored(case, collector, published, django_capture_on_commit_callbacks):
    # given
    docreq = _open(case, collector)
    events_before = UserEvent.objects.count()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        chat_typing_announce(docreq=docreq, user=collector)
    # then
    assert published.sent_to(groups.chat(docreq.pk)) == [
        ChatTyping(request_id=docreq.pk, user_id=collector.pk, user_name=collector.display_name, side="collector")]
    assert UserEvent.objects.count() == events_before


# --- Status machine -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("start", "who", "to", "allowed"), [
    ("open", "clerk", "answered", True),
    ("open", "collector", "answered", False),
    ("open", "collector", "closed", True),
    ("open", "clerk", "closed", True),
    ("answered", "collector", "closed", True),
    ("answered", "clerk", "closed", True),
    ("answered", "collector", "open", True),
    ("answered", "clerk", "open", False),
    ("closed", "collector", "open", True),
    ("closed", "clerk", "open", False),
    ("closed", "clerk", "answered", False),
    ("open", "clerk", "open", False),
])
def test_document_request_set_status_follows_the_status_machine(case, collector, clerk, start, who, to, allowed):
    # given
    docreq = _open(case, collector)
    DocumentRequest.objects.filter(pk=docreq.pk).update(status=start)
    docreq.refresh_from_db()
    user = {"clerk": clerk, "collector": collector}[who]
    # when / then
    if allowed:
        result = document_request_set_status(docreq=docreq, by=user, status=to)
        assert result.status == to
        if to == "closed":
            assert result.closed_at is not None
        if to == "open":
            assert result.closed_at is None
    else:
        with pytest.raises(DocumentRequestTransitionError):
            document_request_set_status(docreq=docreq, by=user, status=to)


def test_document_request_set_status_notifies_both_sides_as_stored_events(
        case, collector, clerk, published, django_capture_on_commit_callbacks):
    # given
    docreq = _open(case, collector)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        document_request_set_status(docreq=docreq, by=collector, status="closed")
    # then
    for user in (collector, clerk):
        [message] = [m for m in published.messages_to(groups.user(user.pk)) if m["type"] == "docreq.status_changed"]
        assert message["status"] == "closed" and isinstance(message["event_id"], int)


def test_the_dashboard_hears_when_a_request_starts_and_stops_waiting(
        case, collector, clerk, published, django_capture_on_commit_callbacks):
    # given / when: opened, answered by the clerk's reply, reopened by the collector
    with django_capture_on_commit_callbacks(execute=True):
        docreq = _open(case, collector)
        chat_message_send(docreq=docreq, by=clerk, text="已上传")
        chat_message_send(docreq=docreq, by=clerk, text="还有别的吗")
        document_request_set_status(docreq=docreq, by=collector, status="open")
    # then
    deltas = [e.deltas for e in published.sent_to(groups.dashboard_all()) if isinstance(e, DashboardCounterChanged)]
    assert deltas == [{"doc_requests_waiting": 1}, {"doc_requests_waiting": -1}, {"doc_requests_waiting": 1}]
    assert all(e.collector_id == collector.pk for e in published.sent_to(groups.dashboard_all()))


# --- Policy ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("who", "visible"), [
    ("collector", True),
    ("clerk", True),
    ("manager", True),
    ("other_clerk_same_bank", False),
    ("other_clerk", False),
    ("other_collector", False),
    ("sysadmin", False),
])
def test_can_view_document_request_by_role(request, case, collector, clerk, bank, who, visible):
    # given
    docreq = _open(case, collector)
    if who == "other_clerk_same_bank":
        user = f.ClerkFactory(full_name="同行内勤")
        f.ClerkBankScopeFactory(clerk=user, bank=bank)
    else:
        user = request.getfixturevalue(who)
    # when / then
    assert can_view_document_request(user=user, docreq=docreq) is visible
    if visible:
        assert access_document_request(user=user, request_id=docreq.pk) == docreq
    else:
        with pytest.raises(Http404):
            access_document_request(user=user, request_id=docreq.pk)


def test_the_cases_new_collector_joins_the_collector_side(case, collector, other_collector):
    # given
    docreq = _open(case, collector)
    case.collector = other_collector
    case.save(update_fields=["collector"])
    # when
    docreq = access_document_request(user=other_collector, request_id=docreq.pk)
    # then
    assert chat_message_send(docreq=docreq, by=other_collector, text="我接手了这个案件").author == other_collector


# --- Waiting time -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("minutes", "text"), [
    (0, "刚刚提交"), (5, "等待 5 分钟"), (192, "等待 3 小时 12 分"), (60 * 24 * 2 + 61, "等待 2 天 1 小时")])
def test_waiting_text_says_how_long_a_request_waited(minutes, text):
    # given
    since = dt.datetime(2026, 11, 29, 1, 0, tzinfo=dt.UTC)
    # when / then
    assert waiting_text(since, since + dt.timedelta(minutes=minutes)) == text
