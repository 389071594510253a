from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditEntry
from cases.actions.chat import chat_mark_read, chat_message_send, document_request_open
from cases.enums import CaseStatus
from cases.models import ChatMessage, DocumentRequest
from tests.cases import samples
from tests.cases.samples import media_root  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def case(make_case, collector, clerk):
    return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="王视图")


@pytest.fixture
def docreq(case, collector):
    return document_request_open(case=case, by=collector, items=["loan_contract"], reason="客户否认借款")


def test_docreq_create_view_opens_a_request_and_shows_it(collector_client, case, clerk):
    # given
    url = reverse("cases:docreq-create", kwargs={"case_id": case.pk})
    # when
    response = collector_client.post(url, {"items": ["id_copy", "other"], "items_other": "工资流水",
                                           "reason": "需要核实单位"}, follow=True)
    # then
    docreq = DocumentRequest.objects.get()
    assert response.redirect_chain[-1][0] == reverse("cases:docreq-detail", kwargs={"request_id": docreq.pk})
    text = response.content.decode()
    assert f"已向内勤 {clerk.display_name} 索要资料" in text
    assert "身份证复印件" in text and "其他：工资流水" in text and "需要核实单位" in text


def test_docreq_create_view_says_what_is_missing(collector_client, case):
    # given
    url = reverse("cases:docreq-create", kwargs={"case_id": case.pk})
    # when
    response = collector_client.post(url, {"items": ["other"], "reason": ""})
    # then
    text = response.content.decode()
    assert response.status_code == 200 and not DocumentRequest.objects.exists()
    assert "勾选了“其他”，请写明需要什么资料" in text and "请说明为什么需要这些资料" in text


def test_docreq_detail_view_shows_history_with_read_ticks_and_the_clerks_buttons(
        client, clerk, collector, docreq):
    # given
    first = chat_message_send(docreq=docreq, by=collector, text="请尽快")
    chat_message_send(docreq=docreq, by=collector, text="谢谢")
    chat_mark_read(docreq=docreq, user=clerk, last_id=first.pk)
    # when: the collector looks
    client.force_login(collector)
    text = client.get(reverse("cases:docreq-detail", kwargs={"request_id": docreq.pk})).content.decode()
    # then: the first is read, the second not yet
    assert text.index("请尽快") < text.index("谢谢")
    assert text.count(">已读<") == 1 and text.count(">未读<") == 1
    assert "关闭请求" in text and "标记为已答复" not in text
    # when: the clerk looks
    client.force_login(clerk)
    text = client.get(reverse("cases:docreq-detail", kwargs={"request_id": docreq.pk})).content.decode()
    # then
    assert "标记为已答复" in text and "待答复" in text


def test_docreq_message_create_view_uploads_an_attachment_and_triggers_the_page(
        client, clerk, docreq, media_root):  # noqa: F811
    # given
    client.force_login(clerk)
    url = reverse("cases:docreq-message-create", kwargs={"request_id": docreq.pk})
    # when
    response = client.post(url, {"text": "合同扫描件", "client_msg_id": "up-1",
                                 "attachment": samples.upload("合同.pdf", samples.pdf())}, **HTMX)
    # then
    message = ChatMessage.objects.get()
    assert response.status_code == 200 and "chat:posted" in response["HX-Trigger"]
    assert message.attachment.original_name == "合同.pdf" and message.client_msg_id == "up-1"
    docreq.refresh_from_db()
    assert docreq.status == "answered"


def test_docreq_message_create_view_shows_why_a_file_was_refused(client, clerk, docreq, media_root):  # noqa: F811
    # given
    client.force_login(clerk)
    url = reverse("cases:docreq-message-create", kwargs={"request_id": docreq.pk})
    # when
    response = client.post(url, {"text": "", "attachment": samples.upload("a.pdf", b"GIF89a" + b"\x00" * 40)},
                           **HTMX)
    # then
    text = response.content.decode()
    assert "form-error" in text and "GIF 图片" in text and "HX-Trigger" not in response
    assert not ChatMessage.objects.exists()


def test_docreq_attachment_view_audits_downloads_and_inline_pictures(client, clerk, collector, docreq,
                                                                         media_root):  # noqa: F811
    # given
    picture = chat_message_send(docreq=docreq, by=clerk, text="", upload=samples.upload("证.png", samples.png()))
    client.force_login(collector)
    url = reverse("cases:docreq-attachment", kwargs={"request_id": docreq.pk, "message_id": picture.pk})
    # when
    inline = client.get(url)
    download = client.get(url + "?download=1")
    # then
    assert b"".join(inline.streaming_content) == samples.png()
    assert inline["Content-Type"] == "image/png" and "attachment" not in inline["Content-Disposition"]
    assert b"".join(download.streaming_content) == samples.png()
    assert "attachment" in download["Content-Disposition"]
    # a picture shown in the chat is an access to a customer file too (issue 13, item 20)
    assert sorted(AuditEntry.objects.filter(actor=collector, object_type="StoredFile").values_list(
        "action", flat=True)) == ["download", "view_sensitive"]


def test_docreq_inbox_view_lists_open_requests_oldest_first_with_waiting_time_and_unread(
        clerk_client, case, collector, make_case):
    # given
    older = document_request_open(case=case, by=collector, items=["id_copy"], reason="一")
    newer_case = make_case(collector=collector, owner_clerk=older.assigned_clerk, debtor_name="李新")
    newer = document_request_open(case=newer_case, by=collector, items=["address"], reason="二")
    now = timezone.now()
    DocumentRequest.objects.filter(pk=older.pk).update(created_at=now - dt.timedelta(hours=3, minutes=12, seconds=5))
    DocumentRequest.objects.filter(pk=newer.pk).update(created_at=now - dt.timedelta(minutes=7, seconds=5))
    chat_message_send(docreq=older, by=collector, text="催一下")
    # when
    text = clerk_client.get(reverse("cases:docreq-inbox")).content.decode()
    # then
    assert text.index("王视图") < text.index("李新")
    assert "等待 3 小时 12 分" in text and "等待 7 分钟" in text
    assert '<span class="unread-count">1</span>' in text


def test_docreq_inbox_view_answers_htmx_with_the_list_only(clerk_client, docreq):
    # when
    response = clerk_client.get(reverse("cases:docreq-inbox"), **HTMX)
    # then
    text = response.content.decode()
    assert text.lstrip().startswith('<div id="docreq-body">') and "<html" not in text


def test_docreq_case_panel_view_offers_the_form_to_the_cases_collector_only(collector_client, clerk_client, case):
    # given
    url = reverse("cases:docreq-case-panel", kwargs={"case_id": case.pk})
    create = reverse("cases:docreq-create", kwargs={"case_id": case.pk})
    # when / then
    assert create in collector_client.get(url).content.decode()
    assert create not in clerk_client.get(url).content.decode()


def test_docreq_status_view_closes_and_the_collector_reopens(client, clerk, collector, docreq):
    # given
    url = reverse("cases:docreq-status", kwargs={"request_id": docreq.pk})
    client.force_login(clerk)
    # when
    closed = client.post(url, {"status": "closed"}, **HTMX).content.decode()
    refused = client.post(url, {"status": "open"}, **HTMX).content.decode()
    client.force_login(collector)
    reopened = client.post(url, {"status": "open"}, **HTMX).content.decode()
    # then
    assert "已关闭" in closed
    assert "只有业务员可以重新打开已关闭的请求" in refused
    assert "待答复" in reopened
    docreq.refresh_from_db()
    assert docreq.status == "open"
