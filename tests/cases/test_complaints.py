from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cases.actions.complaints import complaint_record
from cases.enums import CaseEventType, CaseStatus, ComplaintReason
from cases.models import CaseEvent, Complaint
from cases.policies import can_record_complaint
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(make_case, collector, clerk):
    return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, case_no="TS-1")


def test_complaint_record_writes_the_complaint_and_a_timeline_entry(case, collector, clerk):
    # when
    complaint = complaint_record(case=case, content="一天来电五次", reason=ComplaintReason.FREQUENT_CALLS,
                                 collector=collector, by=clerk)
    # then
    assert complaint.recorded_by == clerk
    event = CaseEvent.objects.get(case=case, type=CaseEventType.COMPLAINT)
    assert event.summary == "记录投诉：频繁来电，被投诉业务员 王催收"
    assert event.data == {"complaint_id": complaint.pk}


def test_clerk_records_a_complaint_on_the_case_page(case, collector, clerk_client):
    # when
    response = clerk_client.post(reverse("cases:complaint-create", args=[case.pk]), {
        "reason": ComplaintReason.THIRD_PARTY, "collector": collector.pk, "content": "联系了客户的同事",
    }, HTTP_HX_REQUEST="true")
    # then
    assert response.status_code == 200
    assert "投诉已记录" in response.content.decode()
    assert Complaint.objects.get().reason == ComplaintReason.THIRD_PARTY


@pytest.mark.parametrize(("role", "expected"), [
    ("clerk", True), ("other_clerk", False), ("manager", True), ("collector", False), ("sysadmin", False),
])
def test_can_record_complaint(request, case, role, expected):
    assert can_record_complaint(user=request.getfixturevalue(role), case=case) is expected


def test_collector_cannot_post_a_complaint(case, collector_client):
    # when
    response = collector_client.post(reverse("cases:complaint-create", args=[case.pk]),
                                     {"reason": ComplaintReason.OTHER, "content": "x"})
    # then
    assert response.status_code == 403
    assert not Complaint.objects.exists()


def test_complaint_list_filters_by_bank_collector_reason_and_date(case, collector, other_collector, clerk,
                                                                 manager_client, other_bank):
    # given
    other_case = f.CaseFactory(batch=f.BatchFactory(bank=other_bank), collector=other_collector, case_no="JS-1")
    complaint_record(case=case, content="态度恶劣", reason=ComplaintReason.ATTITUDE, collector=collector, by=clerk)
    complaint_record(case=other_case, content="泄露给邻居", reason=ComplaintReason.DATA_LEAK,
                     collector=other_collector, by=clerk)
    old = complaint_record(case=case, content="上月的投诉", reason=ComplaintReason.ATTITUDE, collector=collector,
                           by=clerk)
    Complaint.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    url = reverse("cases:complaint-list")
    today = timezone.localdate().isoformat()
    # when
    everything = manager_client.get(url).content.decode()
    by_bank = manager_client.get(url, {"bank": other_bank.pk}).content.decode()
    by_collector = manager_client.get(url, {"collector": collector.pk}).content.decode()
    by_reason = manager_client.get(url, {"reason": ComplaintReason.DATA_LEAK}).content.decode()
    by_date = manager_client.get(url, {"date_from": today, "date_to": today}).content.decode()
    # then
    assert all(t in everything for t in ("态度恶劣", "泄露给邻居", "上月的投诉"))
    assert "泄露给邻居" in by_bank and "态度恶劣" not in by_bank
    assert "态度恶劣" in by_collector and "泄露给邻居" not in by_collector
    assert "泄露给邻居" in by_reason and "态度恶劣" not in by_reason
    assert "态度恶劣" in by_date and "泄露给邻居" in by_date and "上月的投诉" not in by_date


def test_complaint_list_pages_keep_the_filter(case, collector, clerk, manager_client, settings):
    # given: three attitude complaints and one about calls, two rows a page
    settings.CASE_LIST_PAGE_SIZE = 2
    for text in ("第一条", "第二条", "第三条"):
        complaint_record(case=case, content=text, reason=ComplaintReason.ATTITUDE, collector=collector, by=clerk)
    complaint_record(case=case, content="来电太多", reason=ComplaintReason.FREQUENT_CALLS, collector=collector,
                     by=clerk)
    url = reverse("cases:complaint-list")
    # when: the first page, then its 下一页 link as a browser follows it
    first = manager_client.get(url, {"reason": ComplaintReason.ATTITUDE}).content.decode()
    next_href = html.unescape(re.search(r'rel="next" href="([^"]+)"', first).group(1))
    second = manager_client.get(url + next_href).content.decode()
    # then: newest first; page 2 holds the rest of the filtered list, with a way back
    assert "第三条" in first and "第二条" in first and "第一条" not in first
    assert "第一条" in second and "第三条" not in second and "来电太多" not in second
    assert "第 2 页 · 第 3–3 条" in second and 'rel="prev"' in second


def test_clerks_see_complaints_of_their_banks_only(case, collector, clerk, other_collector, other_bank):
    # given
    other_case = f.CaseFactory(batch=f.BatchFactory(bank=other_bank), collector=other_collector)
    complaint_record(case=case, content="本行投诉", reason=ComplaintReason.OTHER, collector=collector, by=clerk)
    complaint_record(case=other_case, content="他行投诉", reason=ComplaintReason.OTHER, collector=None, by=clerk)
    client = Client()
    client.force_login(clerk)
    # when
    text = client.get(reverse("cases:complaint-list")).content.decode()
    # then
    assert "本行投诉" in text and "他行投诉" not in text


def test_collectors_cannot_open_the_complaint_list(collector_client):
    assert collector_client.get(reverse("cases:complaint-list")).status_code == 403
