"""今日工作 (issue 16 item 1): each way a case enters and leaves the queue, the documented order rule with
per-bank weights, and the page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases.actions.calls import call_record_create
from cases.actions.reminders import reminder_fire_due
from cases.actions.repayments import repayment_record
from cases.actions.returns import case_retain, case_return
from cases.actions.visits import visit_record_create
from cases.enums import CaseStatus
from realtime import groups
from realtime.events_worklist import WorkQueueChanged
from worklist.actions import callback_schedule, promises_check_due
from worklist.models import BankWorkSettings
from worklist.queue import points, work_queue_for_collector

SH = ZoneInfo("Asia/Shanghai")
D = Decimal
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SH)  # a Friday, a working day
TODAY = NOW.date()


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case_of(make_case, collector, clerk):
    def _make(*, who=collector, status=CaseStatus.IN_PROGRESS, return_date=TODAY + dt.timedelta(days=60),
              balance="10000.00", assigned_at=NOW - dt.timedelta(days=1), **kw):
        return make_case(collector=who, owner_clerk=clerk, status=status, assigned_at=assigned_at,
                         entrust_date=dt.date(2026, 9, 1), return_date=return_date, entrusted_amount=D(balance),
                         **kw)

    return _make


def queue(collector, now=None):
    return work_queue_for_collector(collector=collector, now=now or NOW)


def reasons(collector, now=None):
    return {i.case_id: i.reasons for i in queue(collector, now).items}


def promise_call(case, collector, *, due=TODAY, amount="500.00", at=None):
    return call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="promise",
                              started_at=at or NOW - dt.timedelta(days=3), promise_date=due,
                              promise_amount=D(amount))


# --- the rule ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("balance", "days_left", "since", "expected"), [
    ("0.00", 30, 0, 0),
    ("2499.99", 30, 0, 0),
    ("2500.00", 30, 0, 1),
    ("100000.00", 30, 0, 40),
    ("5000000.00", 30, 0, 40),          # balance points stop at 40
    ("0.00", 0, 0, 30),                 # due today: all 30 return points
    ("0.00", 45, 0, 0),
    ("0.00", 30, 12, 12),
    ("0.00", 30, None, 30),             # never called
    ("0.00", 30, 400, 30),
])
def test_points(balance, days_left, since, expected):
    assert points(balance=D(balance), days_left=days_left, days_since_contact=since) == expected


@pytest.mark.django_db
def test_order_rule_by_reason_weight_then_points(case_of, collector):
    # given: a new case with a large balance, a 7-day expiry, a 3-day expiry and a not-started one with a small
    # balance
    new_rich = case_of(status=CaseStatus.NOT_STARTED, balance="500000.00")
    new_poor = case_of(status=CaseStatus.NOT_STARTED, balance="1000.00")
    seven = case_of(return_date=TODAY + dt.timedelta(days=6))
    three = case_of(return_date=TODAY + dt.timedelta(days=2))
    # when
    items = queue(collector).items
    # then: ≤3 days (65) > ≤7 days (50) > new (40); the richer new case first
    assert [i.case_id for i in items] == [three.pk, seven.pk, new_rich.pk, new_poor.pk]
    assert [i.top_reason for i in items] == ["expiry_3", "expiry_7", "new", "new"]
    assert items[2].points > items[3].points


@pytest.mark.django_db
def test_order_rule_follows_the_banks_weights(case_of, collector, other_bank):
    # given: the same two reasons, but the first bank ranks new assignments above 3-day expiries
    new = case_of(status=CaseStatus.NOT_STARTED)
    three = case_of(return_date=TODAY + dt.timedelta(days=2))
    BankWorkSettings.objects.create(bank=new.bank, weight_new=99)
    # when
    items = queue(collector).items
    # then
    assert [i.case_id for i in items] == [new.pk, three.pk]


@pytest.mark.django_db
def test_due_callback_stays_on_top_whatever_the_weights(case_of, collector, frozen):
    # given: a broken promise (weight 90) and a callback agreed for 10:30 on a lower-weighted case
    broken = case_of(balance="900000.00")
    promise_call(broken, collector, due=TODAY - dt.timedelta(days=3), at=NOW - dt.timedelta(days=4))
    promises_check_due(now=NOW)
    calm = case_of()
    callback_schedule(case=calm, by=collector, due_at=NOW + dt.timedelta(minutes=30))
    BankWorkSettings.objects.create(bank=calm.bank, weight_callback=0)
    assert queue(collector).items[0].case_id == broken.pk
    # when: 10:31 and 11:00
    later = NOW + dt.timedelta(minutes=31)
    # then: the callback is due and first, even with weight 0; still first when overdue
    assert [i.case_id for i in queue(collector, later).items][:2] == [calm.pk, broken.pk]
    assert queue(collector, NOW + dt.timedelta(hours=1)).items[0].reasons[0] == "callback"


# --- entering ---------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_each_reason_enters_the_queue(case_of, collector, field_collector, frozen):
    # given one case per reason
    first_call = case_of(assigned_at=NOW - dt.timedelta(days=10), status=CaseStatus.NOT_STARTED)
    expiry_3 = case_of(return_date=TODAY + dt.timedelta(days=3))
    expiry_7 = case_of(return_date=TODAY + dt.timedelta(days=7))
    not_yet = case_of(return_date=TODAY + dt.timedelta(days=8))
    new = case_of(status=CaseStatus.NOT_STARTED)
    due = case_of()
    promise_call(due, collector, due=TODAY)
    broken = case_of()
    promise_call(broken, collector, due=TODAY - dt.timedelta(days=3), at=NOW - dt.timedelta(days=4))
    retry = case_of()
    call_record_create(case=retry, collector=collector, number="13800000000", by=collector, result="no_answer",
                       started_at=NOW - dt.timedelta(hours=2))
    callback = case_of()
    callback_schedule(case=callback, by=collector, due_at=NOW + dt.timedelta(minutes=5))
    visit = case_of(who=field_collector, assigned_at=NOW - dt.timedelta(days=10))
    with time_machine.travel(NOW - dt.timedelta(minutes=1), tick=False):
        reminder_fire_due()
        promises_check_due()
    # when
    later = NOW + dt.timedelta(minutes=10)
    mine = reasons(collector, later)
    # then
    assert mine[first_call.pk][0] == "first_call" and "new" in mine[first_call.pk]
    assert mine[expiry_3.pk] == ["expiry_3"]
    assert mine[expiry_7.pk] == ["expiry_7"]
    assert not_yet.pk not in mine
    assert mine[new.pk] == ["new"]
    assert mine[due.pk] == ["promise_due"]
    assert mine[broken.pk] == ["promise_broken"]
    assert mine[retry.pk] == ["retry"]
    assert mine[callback.pk] == ["callback"]
    assert "first_visit" in reasons(field_collector, later)[visit.pk]
    counts = {r: n for r, _, n in queue(collector, later).counts}
    assert counts == {"callback": 1, "promise_broken": 1, "promise_due": 1, "first_call": 1, "expiry_3": 1,
                      "expiry_7": 1, "new": 1, "retry": 1}


@pytest.mark.django_db
def test_retry_waits_an_hour_and_stops_at_the_cap_and_the_window(case_of, collector):
    # given: unanswered 20 minutes ago
    case = case_of()
    call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="busy",
                       started_at=NOW - dt.timedelta(minutes=20))
    # then: not yet; after the gap yes; after 21:00 no
    assert case.pk not in reasons(collector)
    assert reasons(collector, NOW + dt.timedelta(minutes=45))[case.pk] == ["retry"]
    assert case.pk not in reasons(collector, NOW.replace(hour=21, minute=30))
    # when: six unanswered attempts today (the default cap)
    for h in range(5):
        call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="no_answer",
                           started_at=NOW - dt.timedelta(hours=h + 1, minutes=30))
    assert case.pk not in reasons(collector, NOW + dt.timedelta(hours=2))


# --- leaving ----------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_answered_call_takes_the_case_out(case_of, collector):
    # given
    case = case_of(return_date=TODAY + dt.timedelta(days=2))
    assert case.pk in reasons(collector)
    # when
    call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="self_answered",
                       started_at=NOW - dt.timedelta(minutes=5))
    # then
    assert case.pk not in reasons(collector)


@pytest.mark.django_db
def test_visit_takes_the_case_out(case_of, field_collector):
    # given
    case = case_of(who=field_collector, assigned_at=NOW - dt.timedelta(days=10))
    with time_machine.travel(NOW - dt.timedelta(minutes=1), tick=False):
        reminder_fire_due()
    assert "first_visit" in reasons(field_collector)[case.pk]
    # when
    visit_record_create(case=case, collector=field_collector, by=field_collector, visited_on=TODAY,
                        address="沈阳市", result="nobody_home")
    # then
    assert case.pk not in reasons(field_collector)


@pytest.mark.django_db
def test_kept_promise_takes_the_case_out(case_of, collector, clerk):
    # given: due today
    case = case_of()
    promise_call(case, collector, due=TODAY)
    assert reasons(collector)[case.pk] == ["promise_due"]
    # when
    repayment_record(case=case, amount=D("500.00"), repaid_on=TODAY, by=clerk)
    # then
    assert case.pk not in reasons(collector)


@pytest.mark.django_db
def test_retention_and_return_take_the_case_out(case_of, collector, clerk):
    # given
    kept = case_of(return_date=TODAY + dt.timedelta(days=5))
    back = case_of(return_date=TODAY + dt.timedelta(days=1))
    assert {kept.pk, back.pk} <= set(reasons(collector))
    # when
    case_retain(case=kept, by=clerk)
    case_return(case=back, by=clerk)
    # then
    assert not {kept.pk, back.pk} & set(reasons(collector))


@pytest.mark.django_db
def test_another_collectors_cases_never_show(case_of, collector, other_collector):
    # given
    theirs = case_of(who=other_collector, return_date=TODAY + dt.timedelta(days=1))
    # then
    assert theirs.pk not in reasons(collector)


# --- page and live --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_work_queue_page_shows_items_with_reasons_and_counts(case_of, collector, collector_client):
    # given
    case = case_of(return_date=TODAY + dt.timedelta(days=2))
    # when
    page = collector_client.get(reverse("worklist:queue")).content.decode()
    # then
    assert f'id="queue-case-{case.pk}"' in page
    assert "3天内到期" in page and 'data-queue-count="expiry_3">1<' in page
    assert "排序规则" in page


@pytest.mark.django_db
def test_work_queue_page_is_the_collectors_start_page(collector_client, clerk_client, manager_client):
    assert collector_client.get("/").url == reverse("worklist:queue")
    assert clerk_client.get("/").url == reverse("cases:case-list")
    assert clerk_client.get(reverse("worklist:queue")).status_code == 403
    assert manager_client.get(reverse("worklist:queue")).status_code == 403


@pytest.mark.django_db
def test_work_queue_is_told_of_a_call(case_of, collector, published, django_capture_on_commit_callbacks):
    # given
    case = case_of()
    # when
    with django_capture_on_commit_callbacks(execute=True):
        call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="busy")
    # then
    assert WorkQueueChanged(case_id=case.pk) in published.sent_to(groups.user(collector.pk))


@pytest.mark.django_db
def test_postgresql_runs_without_jit():
    # The queue's one query is estimated above jit_above_cost on a large agency; compiling it took longer than
    # running it (bench/work_queue.py), so the product's connections turn JIT off.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
