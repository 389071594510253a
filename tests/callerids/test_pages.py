"""外显号码池 pages (issue 17), as a 系统管理员 made on the product's account page: add a number, see its calls,
answer-rate trend and state, rest and reactivate it, each audited; managers read; nobody else."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AuditAction, AuditEntry
from callerids.models import CallerNumber, CallerNumberDay, CallerNumberState
from callerids.selectors import local_day
from cases.enums import CaseStatus
from cases.models import CallRecord
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_sysadmin_adds_a_bank_number_in_any_written_form_audited(sysadmin_client, sysadmin, bank):
    # when
    response = sysadmin_client.post(reverse("callerids:number-add"), {
        "number": "021-6100 0001", "bank": bank.pk, "daily_cap": "120", "trunk": "trunk", "note": "电信"})
    # then
    assert response.status_code == 302
    row = CallerNumber.objects.get()
    assert (row.number, row.bank, row.daily_cap, row.state, row.note) == ("02161000001", bank, 120, "active", "电信")
    entry = AuditEntry.objects.get(action=AuditAction.CALLER_NUMBER)
    assert entry.actor == sysadmin
    assert entry.summary == "添加外显号码 02161000001（中继 trunk，招商银行 专用，每日上限 120 次）"


def test_adding_a_number_twice_or_a_bad_cap_is_refused_in_chinese(sysadmin_client):
    # given
    CallerNumber.objects.create(number="02161000001")
    # when
    again = sysadmin_client.post(reverse("callerids:number-add"), {"number": "+86 21 6100 0001", "daily_cap": "100"},
                                 follow=True)
    bad_cap = sysadmin_client.post(reverse("callerids:number-add"), {"number": "02161000002", "daily_cap": "0"},
                                   follow=True)
    # then
    assert "没有添加：号码 02161000001 已在号码池中" in again.content.decode()
    assert "没有添加：每日外呼上限须在 1–10000 次之间" in bad_cap.content.decode()
    assert CallerNumber.objects.count() == 1


def test_list_shows_each_numbers_use_rate_and_state(sysadmin_client, bank):
    # given: today 40 of 150 used, 10 answered; a flagged number
    good = CallerNumber.objects.create(number="02161000001", bank=bank)
    CallerNumber.objects.create(number="02161000002", state=CallerNumberState.FLAGGED, state_reason="今日接通率 5%")
    CallerNumberDay.objects.create(caller_number=good, day=local_day(timezone.now()), attempts=40, answered=10)
    # when
    html = sysadmin_client.get(reverse("callerids:number-list")).content.decode()
    # then
    assert "02161000001" in html and "招商银行" in html and "40 / 150" in html and "25%" in html
    assert "疑似被标记" in html and "<polyline" in html and "添加号码" in html


def test_detail_shows_the_numbers_calls_and_trend(sysadmin_client, bank, collector):
    # given: one outbound call that showed the number and one call back to it
    number = CallerNumber.objects.create(number="02161000001")
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, status=CaseStatus.IN_PROGRESS)
    now = timezone.now()
    CallRecord.objects.create(case=case, collector=collector, number="13800138000", started_at=now, answered_at=now,
                              duration_s=42, caller_id="02161000001")
    CallRecord.objects.create(case=case, collector=collector, number="13800138000", started_at=now,
                              direction="inbound", caller_id="02161000001")
    CallerNumberDay.objects.create(caller_number=number, day=local_day(now), attempts=4, answered=1)
    # when
    html = sysadmin_client.get(reverse("callerids:number-detail", args=[number.pk])).content.decode()
    # then
    assert "接通 42 秒" in html and "客户回拨" in html and case.case_no in html and "138****8000" in html
    assert "25%" in html and "休息此号码" in html


def test_sysadmin_rests_and_reactivates_a_number_audited(sysadmin_client, sysadmin):
    # given
    number = CallerNumber.objects.create(number="02161000001")
    # when
    sysadmin_client.post(reverse("callerids:number-rest", args=[number.pk]), {"reason": "客户投诉被标记"})
    number.refresh_from_db()
    rested = (number.state, number.state_reason)
    sysadmin_client.post(reverse("callerids:number-reactivate", args=[number.pk]))
    number.refresh_from_db()
    # then
    assert rested == ("rested", "客户投诉被标记") and number.state == "active" and number.state_reason == ""
    summaries = list(AuditEntry.objects.filter(action=AuditAction.CALLER_NUMBER).order_by("id")
                     .values_list("summary", flat=True))
    assert summaries == ["外显号码 02161000001 休息：客户投诉被标记", "外显号码 02161000001 恢复使用（原为休息中）"]


def test_rest_needs_a_reason(sysadmin_client):
    # given
    number = CallerNumber.objects.create(number="02161000001")
    # when
    response = sysadmin_client.post(reverse("callerids:number-rest", args=[number.pk]), {"reason": " "}, follow=True)
    # then
    assert "没有休息：请填写休息原因" in response.content.decode()
    number.refresh_from_db()
    assert number.state == "active"


def test_manager_reads_the_pool_but_cannot_change_it(manager_client):
    # given
    number = CallerNumber.objects.create(number="02161000001")
    # when
    html = manager_client.get(reverse("callerids:number-detail", args=[number.pk])).content.decode()
    refused = manager_client.post(reverse("callerids:number-rest", args=[number.pk]), {"reason": "试试"})
    # then
    assert "02161000001" in html and "休息此号码" not in html
    assert refused.status_code == 403
    number.refresh_from_db()
    assert number.state == "active" and not AuditEntry.objects.filter(action=AuditAction.CALLER_NUMBER).exists()
