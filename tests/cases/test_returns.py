"""Return and retention (C9, C10, P10): the state machine on a frozen clock, requests, read-only returns."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditAction, AuditEntry
from cases.actions.returns import (
    add_month,
    case_retain,
    case_return,
    case_return_undo,
    retention_request_create,
    retention_request_decide,
)
from cases.enums import CaseEventType, CaseStatus
from cases.exceptions import ReturnError
from cases.models import Assignment, CaseEvent, RetentionRequest, RetentionStatus, UserEvent
from cases.policies import can_record_work, can_request_retention
from cases.selectors.returns import case_list_due_for_return

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)  # 12:00 in Asia/Shanghai


@pytest.mark.parametrize(("day", "expected"), [((2026, 1, 31), (2026, 2, 28)), ((2028, 1, 31), (2028, 2, 29)),
                                               ((2026, 12, 15), (2027, 1, 15)), ((2026, 11, 20), (2026, 12, 20))])
def test_add_month_keeps_day_or_month_end(day, expected):
    # given / when / then
    assert add_month(dt.date(*day)) == dt.date(*expected)


@time_machine.travel(NOON, tick=False)
def test_case_list_due_for_return_lists_open_cases_within_days(make_case, clerk):
    # given
    soon = make_case(entrust_date=dt.date(2026, 8, 25), return_date=dt.date(2026, 11, 25),
                     original_return_date=dt.date(2026, 11, 25), status=CaseStatus.IN_PROGRESS)
    make_case(entrust_date=dt.date(2026, 8, 25), return_date=dt.date(2027, 1, 25),
              original_return_date=dt.date(2027, 1, 25))
    make_case(entrust_date=dt.date(2026, 8, 25), return_date=dt.date(2026, 11, 21),
              original_return_date=dt.date(2026, 11, 21), status=CaseStatus.SETTLED)
    # when
    due = list(case_list_due_for_return(user=clerk, days=7))
    # then
    assert due == [soon]


@time_machine.travel(NOON, tick=False)
def test_case_retain_twice_moves_return_date_two_months_and_marks_retained(make_case, clerk):
    # given
    case = make_case(entrust_date=dt.date(2026, 8, 31), return_date=dt.date(2026, 11, 30),
                     original_return_date=dt.date(2026, 11, 30), status=CaseStatus.IN_PROGRESS)
    # when
    case_retain(case=case, by=clerk)
    case_retain(case=case, by=clerk)
    # then
    case.refresh_from_db()
    assert (case.return_date, case.original_return_date, case.status) == (
        dt.date(2027, 1, 30), dt.date(2026, 11, 30), CaseStatus.RETAINED)
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.RETAINED).count() == 2


def test_case_return_makes_case_read_only_and_ends_assignment(make_case, clerk, collector):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    Assignment.objects.create(case=case, collector=collector, assigned_by=clerk)
    assert can_record_work(user=collector, case=case)
    # when
    case_return(case=case, by=clerk)
    # then
    case.refresh_from_db()
    assert case.status == CaseStatus.RETURNED
    assert not can_record_work(user=collector, case=case)
    assert not can_request_retention(user=collector, case=case)
    assert not Assignment.objects.filter(case=case, ended_at=None).exists()
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.RETURNED).exists()
    with pytest.raises(ReturnError, match="不能退案"):
        case_return(case=case, by=clerk)
    with pytest.raises(ReturnError, match="不能留案"):
        case_retain(case=case, by=clerk)


def test_case_work_refused_on_returned_case(client, make_case, clerk, collector):
    # given
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS)
    case_return(case=case, by=clerk)
    client.force_login(collector)
    # when
    response = client.post(reverse("cases:call-create", args=[case.pk]), {})
    # then
    assert response.status_code == 403


@time_machine.travel(NOON, tick=False)
def test_retention_request_approved_retains_and_notifies(make_case, clerk, collector,
                                                         django_capture_on_commit_callbacks):
    # given
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                     entrust_date=dt.date(2026, 8, 25), return_date=dt.date(2026, 11, 25),
                     original_return_date=dt.date(2026, 11, 25))
    # when
    with django_capture_on_commit_callbacks(execute=True):
        request = retention_request_create(case=case, by=collector, reason="客户承诺月底还款")
    # then the owner clerk is told
    assert UserEvent.objects.filter(user=clerk, type="retention.changed").count() == 1
    with pytest.raises(ReturnError, match="待审批"):
        retention_request_create(case=case, by=collector, reason="再次")
    # when
    with django_capture_on_commit_callbacks(execute=True):
        retention_request_decide(request=request, by=clerk, approve=True)
    # then
    case.refresh_from_db()
    request.refresh_from_db()
    assert (case.status, case.return_date, request.status) == (CaseStatus.RETAINED, dt.date(2026, 12, 25),
                                                               RetentionStatus.APPROVED)
    assert UserEvent.objects.filter(user=collector, type="retention.changed").count() == 1
    types = list(CaseEvent.objects.filter(case=case).values_list("type", flat=True))
    assert {CaseEventType.RETENTION_REQUESTED, CaseEventType.RETENTION_DECIDED, CaseEventType.RETAINED} <= set(types)
    with pytest.raises(ReturnError, match="已处理"):
        retention_request_decide(request=request, by=clerk, approve=False)


def test_retention_request_declined_leaves_return_date(make_case, clerk, collector):
    # given
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS)
    before = case.return_date
    request = retention_request_create(case=case, by=collector, reason="理由")
    # when
    retention_request_decide(request=request, by=clerk, approve=False, note="银行不同意")
    # then
    case.refresh_from_db()
    assert (case.return_date, case.status) == (before, CaseStatus.IN_PROGRESS)


def test_return_list_bulk_return_by_clerk(client, make_case, clerk, other_bank):
    # given
    a, b = make_case(status=CaseStatus.IN_PROGRESS), make_case(status=CaseStatus.IN_PROGRESS)
    foreign = make_case(bank=other_bank, status=CaseStatus.IN_PROGRESS)
    client.force_login(clerk)
    # when
    client.post(reverse("cases:case-return-bulk"), {"case_ids": [a.pk, b.pk, foreign.pk], "confirm": "1"})
    # then
    statuses = {c.pk: c.status for c in (a, b, foreign) if c.refresh_from_db() is None}
    assert statuses == {a.pk: CaseStatus.RETURNED, b.pk: CaseStatus.RETURNED, foreign.pk: CaseStatus.IN_PROGRESS}


def test_return_list_page_renders_for_clerk(client, make_case, clerk):
    # given
    make_case(status=CaseStatus.IN_PROGRESS)
    client.force_login(clerk)
    # when
    response = client.get(reverse("cases:return-list"), {"days": 366})
    # then
    assert response.status_code == 200 and "留案一个月" in response.content.decode()


# --- 退案 asks first, says what will happen, and can be undone (C9) --------------------------------------------

@pytest.mark.parametrize("how", ["single-get", "single-post", "bulk"])
def test_return_asks_for_confirmation_and_says_what_will_happen(client, make_case, clerk, collector, how):
    # given: a case in progress with its collector and a pending retention request
    case = make_case(status=CaseStatus.IN_PROGRESS, collector=collector, owner_clerk=clerk, case_no="RT-1")
    retention_request_create(case=case, by=collector, reason="客户月底还款")
    client.force_login(clerk)
    # when: the first click
    if how == "single-get":
        page = client.get(reverse("cases:case-return", args=[case.pk]))
    elif how == "single-post":
        page = client.post(reverse("cases:case-return", args=[case.pk]))
    else:
        page = client.post(reverse("cases:case-return-bulk"), {"case_ids": [case.pk]})
    # then: nothing changed yet; the page lists the case and the consequences, with one more button
    case.refresh_from_db()
    html = page.content.decode()
    assert page.status_code == 200 and case.status == CaseStatus.IN_PROGRESS
    assert "RT-1" in html and "确认退案 1 件" in html and 'name="confirm" value="1"' in html
    assert collector.display_name in html and "不能再记录电话、外访" in html
    assert "留案申请 <b>1</b> 件将被拒绝" in html and "天内</b>可由负责内勤或管理人员" in html


def test_return_confirmed_is_audited_and_undone_by_the_owner_clerk_within_the_days(client, make_case, clerk,
                                                                                 collector):
    # given: a case returned by its owner clerk (confirmed)
    case = make_case(status=CaseStatus.IN_PROGRESS, collector=collector, owner_clerk=clerk, case_no="RT-2")
    Assignment.objects.create(case=case, collector=collector)
    client.force_login(clerk)
    client.post(reverse("cases:case-return", args=[case.pk]), {"confirm": "1"})
    case.refresh_from_db()
    assert case.status == CaseStatus.RETURNED
    assert AuditEntry.objects.filter(action=AuditAction.CASE_RETURN, object_id=str(case.pk)).exists()
    # the returns page lists it under 最近退案, with an undo form
    assert "撤销退案" in client.get(reverse("cases:return-list")).content.decode()
    # when: undone without a reason, then with one
    client.post(reverse("cases:case-return-undo", args=[case.pk]), {"reason": " "})
    case.refresh_from_db()
    assert case.status == CaseStatus.RETURNED
    client.post(reverse("cases:case-return-undo", args=[case.pk]), {"reason": "误操作，银行未要求退回"})
    # then: back in progress with its collector (a new assignment period), audited, on the timeline
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.collector == collector
    assert Assignment.objects.filter(case=case, ended_at=None, collector=collector).count() == 1
    assert can_record_work(user=collector, case=case)
    undo = AuditEntry.objects.get(action=AuditAction.CASE_RETURN_UNDO)
    assert undo.object_id == str(case.pk) and "误操作" in undo.summary
    event = CaseEvent.objects.get(case=case, type=CaseEventType.RETURN_UNDONE)
    assert "误操作" in event.summary and "进行中" in event.summary


def test_return_undo_by_a_manager_and_refused_to_another_clerk_and_after_the_days(make_case, clerk, manager,
                                                                                  collector, settings):
    # given
    settings.RETURN_UNDO_DAYS = 3
    other_clerk_of_the_bank = type(clerk).objects.create_user(username="clerk_b", password="x", full_name="另一内勤",
                                                              is_clerk=True)
    case = make_case(status=CaseStatus.NOT_STARTED, collector=collector, owner_clerk=clerk)
    with time_machine.travel(NOON, tick=False):
        case_return(case=case, by=clerk)
    # when / then: another clerk may not, even within the days
    with time_machine.travel(NOON + dt.timedelta(days=1), tick=False), \
            pytest.raises(ReturnError, match="只有负责该委案的内勤或管理人员"):
        case_return_undo(case=case, by=other_clerk_of_the_bank, reason="x")
    # when / then: after 3 days nobody may
    with time_machine.travel(NOON + dt.timedelta(days=3, minutes=1), tick=False), \
            pytest.raises(ReturnError, match="已超过 3 天"):
        case_return_undo(case=case, by=manager, reason="x")
    # when: a manager on day 2
    with time_machine.travel(NOON + dt.timedelta(days=2), tick=False):
        case_return_undo(case=case, by=manager, reason="银行来电撤回退案")
    # then: the status it had before the return
    case.refresh_from_db()
    assert case.status == CaseStatus.NOT_STARTED


def test_return_page_bulk_retains_the_ticked_cases(client, make_case, clerk, other_bank):
    # given
    a, b = make_case(status=CaseStatus.IN_PROGRESS), make_case(status=CaseStatus.NOT_STARTED)
    foreign = make_case(bank=other_bank, status=CaseStatus.IN_PROGRESS)
    dates = {c.pk: c.return_date for c in (a, b, foreign)}
    client.force_login(clerk)
    # when
    client.post(reverse("cases:case-retain-bulk"), {"case_ids": [a.pk, b.pk, foreign.pk], "reason": "银行同意续期"})
    # then
    for c in (a, b, foreign):
        c.refresh_from_db()
    assert (a.status, b.status, foreign.status) == (CaseStatus.RETAINED, CaseStatus.RETAINED, CaseStatus.IN_PROGRESS)
    assert a.return_date == add_month(dates[a.pk]) and foreign.return_date == dates[foreign.pk]
    assert CaseEvent.objects.filter(case=a, type=CaseEventType.RETAINED, summary__contains="银行同意续期").exists()


def test_return_page_has_select_all_and_bulk_retain(client, make_case, clerk):
    # given
    make_case(status=CaseStatus.IN_PROGRESS)
    client.force_login(clerk)
    # when
    html = client.get(reverse("cases:return-list"), {"days": 366}).content.decode()
    # then
    assert "data-select-all" in html and "留案一个月（勾选的委案）" in html
    assert RetentionRequest.objects.count() == 0
