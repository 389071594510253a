"""Return and retention (C9, C10, P10): the state machine on a frozen clock, requests, read-only returns."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from cases.actions.returns import (
    add_month,
    case_retain,
    case_return,
    retention_request_create,
    retention_request_decide,
)
from cases.enums import CaseEventType, CaseStatus
from cases.exceptions import ReturnError
from cases.models import Assignment, CaseEvent, RetentionStatus, UserEvent
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
    client.post(reverse("cases:case-return-bulk"), {"case_ids": [a.pk, b.pk, foreign.pk]})
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
