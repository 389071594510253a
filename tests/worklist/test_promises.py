"""Promises to pay (issue 16 item 2): every promise becomes a record, matched to repayments with the bank's
tolerance and grace: kept, partly kept, broken; broken ones remind the collector and the owner clerk."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from cases.actions.calls import call_outcome_record, call_record_create
from cases.actions.files import work_record_delete
from cases.actions.repayments import repayment_record, repayment_reverse
from cases.actions.visits import visit_record_create
from cases.enums import CallSource, CaseStatus, ReminderKind
from cases.models import Reminder
from realtime import groups
from realtime.events_worklist import PromiseChanged
from worklist.actions import match_promises, promises_backfill, promises_check_due
from worklist.models import BankWorkSettings, Promise, PromiseSource, PromiseStatus

SH = ZoneInfo("Asia/Shanghai")
D = Decimal


def at(y, m, d, hh=10, mm=0):
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


# --- the rule, pure ---------------------------------------------------------------------------------------------

def promise(pid, made, due, amount, grace=2, tolerance="10.00"):
    return (pid, made, due + dt.timedelta(days=grace), D(amount), D(tolerance))


DAY = dt.date(2026, 11, 10)


@pytest.mark.parametrize(("paid", "on", "today", "status"), [
    ("500.00", DAY, DAY, "kept"),                                           # exact, on the day
    ("490.00", DAY, DAY, "kept"),                                           # within the 10.00 tolerance
    ("489.99", DAY, DAY, "open"),                                           # short, window still open
    ("489.99", DAY, DAY + dt.timedelta(days=3), "partly_kept"),             # short, window passed
    ("500.00", DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=5), "kept"),   # last day of grace
    ("500.00", DAY + dt.timedelta(days=3), DAY + dt.timedelta(days=5), "broken"),  # a day after the grace
    ("500.00", DAY - dt.timedelta(days=6), DAY + dt.timedelta(days=5), "broken"),  # before it was made
    (None, None, DAY + dt.timedelta(days=2), "open"),                       # nothing yet, grace not over
    (None, None, DAY + dt.timedelta(days=3), "broken"),                     # nothing, grace over
])
def test_match_promises_rule(paid, on, today, status):
    # given: 500 promised on the 5th for the 10th, grace 2 days, tolerance 10.00
    promises = [promise(1, DAY - dt.timedelta(days=5), DAY, "500.00")]
    repayments = [(on, D(paid))] if paid else []
    # when
    outcome = match_promises(promises=promises, repayments=repayments, today=today)
    # then
    assert outcome[1].status == status


def test_match_promises_each_repayment_counts_once_in_due_order():
    # given: two promises of 300 each; 400 paid once, then 200
    promises = [promise(1, DAY, DAY, "300.00", tolerance="0"), promise(2, DAY, DAY + dt.timedelta(days=7), "300.00",
                                                                        tolerance="0")]
    repayments = [(DAY, D("400.00")), (DAY + dt.timedelta(days=1), D("200.00"))]
    # when
    outcome = match_promises(promises=promises, repayments=repayments, today=DAY + dt.timedelta(days=1))
    # then: the first is kept with 300, the rest (100 + 200) keeps the second
    assert (outcome[1].status, outcome[1].paid, outcome[1].decided_on) == ("kept", D("300.00"), DAY)
    assert (outcome[2].status, outcome[2].paid) == ("kept", D("300.00"))


# --- records from calls, outcomes and visits -------------------------------------------------------------------

@pytest.fixture
def worked_case(make_case, collector, clerk):
    return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                     assigned_at=at(2026, 11, 1), entrust_date=dt.date(2026, 10, 1), return_date=dt.date(2027, 1, 31))


def promise_call(case, collector, *, day=dt.date(2026, 11, 20), amount="500.00", on=None):
    on = on or at(2026, 11, 18)
    with time_machine.travel(on, tick=False):
        return call_record_create(case=case, collector=collector, number="13800000000", by=collector,
                                  result="promise", started_at=on, promise_date=day, promise_amount=D(amount))


@pytest.mark.django_db
def test_call_with_promise_becomes_a_promise_record(worked_case, collector, published,
                                                   django_capture_on_commit_callbacks):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        call = promise_call(worked_case, collector)
    # then
    p = Promise.objects.get(case=worked_case)
    assert (p.source, p.call_id, p.collector_id, p.made_on, p.due_date, p.amount, p.status) == (
        PromiseSource.CALL, call.pk, collector.pk, dt.date(2026, 11, 18), dt.date(2026, 11, 20), D("500.00"), "open")
    assert (p.tolerance, p.window_end) == (D("10.00"), dt.date(2026, 11, 22))  # the defaults: ¥10, 2 days
    assert p.contact_label == "138****0000"  # shown to collectors: masked like every number they see
    assert any(isinstance(e, PromiseChanged) and e.status == "open" for e in published.sent_to(groups.case(
        worked_case.pk)))


@pytest.mark.django_db
def test_call_outcome_and_visit_promises_become_records(worked_case, collector):
    # given: a dialer call without a result yet
    with time_machine.travel(at(2026, 11, 18), tick=False):
        call = call_record_create(case=worked_case, collector=collector, number="13800000000", by=None,
                                  source=CallSource.DIALER, started_at=at(2026, 11, 18), call_uuid="u-1")
        assert not Promise.objects.exists()
        # when: its outcome is a promise, and a visit records another
        call_outcome_record(call=call, by=collector, result="promise", promise_date=dt.date(2026, 11, 25),
                            promise_amount=D("300.00"))
        visit_record_create(case=worked_case, collector=collector, by=collector, visited_on=dt.date(2026, 11, 18),
                            address="沈阳市", result="promise", met_person="本人",
                            promise_date=dt.date(2026, 11, 30), promise_amount=D("200.00"))
    # then
    assert sorted(Promise.objects.values_list("source", "amount", "contact_label")) == [
        ("call", D("300.00"), "138****0000"), ("visit", D("200.00"), "本人")]


@pytest.mark.django_db
def test_bank_tolerance_and_grace_are_taken_when_the_promise_is_made(worked_case, collector, manager):
    # given: the bank allows ¥50 and 5 days
    BankWorkSettings.objects.create(bank=worked_case.bank, tolerance_amount=D("50.00"), grace_days=5)
    # when
    promise_call(worked_case, collector)
    # then
    p = Promise.objects.get()
    assert (p.tolerance, p.window_end) == (D("50.00"), dt.date(2026, 11, 25))


# --- matching live --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_repayment_keeps_the_promise_and_resolves_its_reminder(worked_case, collector, clerk, published,
                                                              django_capture_on_commit_callbacks):
    # given: a promise for the 20th, reminded that morning
    promise_call(worked_case, collector)
    with time_machine.travel(at(2026, 11, 20, 8), tick=False):
        promises_check_due()
    reminder = Reminder.objects.get(user=collector, kind=ReminderKind.PROMISE_DUE)
    # when: the clerk records 495 on the 20th (within the ¥10 tolerance)
    with time_machine.travel(at(2026, 11, 20, 15), tick=False), django_capture_on_commit_callbacks(execute=True):
        repayment_record(case=worked_case, amount=D("495.00"), repaid_on=dt.date(2026, 11, 20), by=clerk)
    # then
    p = Promise.objects.get()
    assert (p.status, p.paid_amount, p.decided_on) == ("kept", D("495.00"), dt.date(2026, 11, 20))
    reminder.refresh_from_db()
    assert reminder.resolved_at is not None
    kept = [e for e in published.sent_to(groups.case(worked_case.pk)) if isinstance(e, PromiseChanged)]
    assert kept[-1].status == "kept" and kept[-1].status_label == "已兑现"


@pytest.mark.django_db
def test_unpaid_promise_breaks_after_grace_and_reminds_collector_and_owner_clerk(worked_case, collector, clerk):
    # given
    promise_call(worked_case, collector)
    # when: the scheduler runs on the last day of grace, then the day after
    with time_machine.travel(at(2026, 11, 22, 23), tick=False):
        promises_check_due()
    assert Promise.objects.get().status == "open"
    with time_machine.travel(at(2026, 11, 23, 0, 5), tick=False):
        changed = promises_check_due()
    # then
    assert changed == 1
    p = Promise.objects.get()
    assert (p.status, p.decided_on) == ("broken", dt.date(2026, 11, 23))
    for user in (collector, clerk):
        r = Reminder.objects.get(user=user, kind=ReminderKind.PROMISE_BROKEN)
        assert r.get_kind_display() == "承诺违约" and "已违约" in r.text


@pytest.mark.django_db
def test_broken_promise_reminder_resolves_when_the_collector_follows_up(worked_case, collector, clerk):
    # given: broken
    promise_call(worked_case, collector)
    with time_machine.travel(at(2026, 11, 23, 9), tick=False):
        promises_check_due()
    # when: the collector calls the debtor
    with time_machine.travel(at(2026, 11, 23, 10), tick=False):
        call_record_create(case=worked_case, collector=collector, number="13800000000", by=collector,
                           result="no_answer")
    # then
    assert not Reminder.objects.filter(kind=ReminderKind.PROMISE_BROKEN, resolved_at=None).exists()


@pytest.mark.django_db
def test_short_payment_is_partly_kept_after_grace(worked_case, collector, clerk):
    # given
    promise_call(worked_case, collector)
    with time_machine.travel(at(2026, 11, 21), tick=False):
        repayment_record(case=worked_case, amount=D("200.00"), repaid_on=dt.date(2026, 11, 21), by=clerk)
    assert Promise.objects.get().status == "open"
    # when
    with time_machine.travel(at(2026, 11, 23), tick=False):
        promises_check_due()
    # then
    p = Promise.objects.get()
    assert (p.status, p.paid_amount) == ("partly_kept", D("200.00"))
    assert Reminder.objects.filter(kind=ReminderKind.PROMISE_BROKEN).count() == 2


@pytest.mark.django_db
def test_reversed_repayment_reopens_the_promise(worked_case, collector, clerk):
    # given: kept
    promise_call(worked_case, collector)
    with time_machine.travel(at(2026, 11, 20), tick=False):
        repayment = repayment_record(case=worked_case, amount=D("500.00"), repaid_on=dt.date(2026, 11, 20), by=clerk)
        assert Promise.objects.get().status == "kept"
        # when: the entry was wrong and is reversed
        repayment_reverse(repayment=repayment, by=clerk, reason="录错金额")
    # then
    assert Promise.objects.get().status == "open"


@pytest.mark.django_db
def test_deleted_call_cancels_its_promise(worked_case, collector, sysadmin):
    # given
    call = promise_call(worked_case, collector)
    # when
    work_record_delete(record=call, by=sysadmin, reason="误录")
    # then
    assert Promise.objects.get().status == PromiseStatus.CANCELLED


# --- statistics for the reports ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_promise_stats_by_collector_and_month_with_kept_rate(worked_case, make_case, collector, clerk):
    from cases.models import Case
    from worklist.selectors import promise_stats

    # given: three promises in November: one kept, one broken, one still open; one in October
    other = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                      entrust_date=dt.date(2026, 9, 1), return_date=dt.date(2027, 1, 31))
    promise_call(worked_case, collector)                                   # 18 Nov, for the 20th
    promise_call(other, collector, day=dt.date(2026, 11, 19), amount="200.00", on=at(2026, 11, 19))
    promise_call(other, collector, day=dt.date(2026, 12, 5), amount="100.00", on=at(2026, 11, 30))
    promise_call(worked_case, collector, day=dt.date(2026, 10, 12), amount="50.00", on=at(2026, 10, 10))
    with time_machine.travel(at(2026, 11, 20), tick=False):
        repayment_record(case=worked_case, amount=D("500.00"), repaid_on=dt.date(2026, 11, 20), by=clerk)
    with time_machine.travel(at(2026, 11, 25), tick=False):
        promises_check_due()
    # when
    rows = promise_stats(cases=Case.objects.all(), group_by="collector", by_month=True,
                         date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 11, 30))
    # then
    october, november = rows
    assert (october.period, october.count, october.amount, october.broken) == (dt.date(2026, 10, 1), 1, D("50.00"), 1)
    assert (november.key, november.period, november.count, november.amount) == (
        "王催收", dt.date(2026, 11, 1), 3, D("800.00"))
    assert (november.kept, november.broken, november.decided, november.kept_rate) == (1, 1, 2, D("0.5000"))
    assert november.kept_amount == D("500.00")


@pytest.mark.django_db
def test_promises_backfill_records_bulk_written_promises_matched_and_quietly(worked_case, collector, clerk,
                                                                            published,
                                                                            django_capture_on_commit_callbacks):
    # given: promise calls and a visit written in bulk (no save signal), as the demo data is; one call deleted,
    # one promise already recorded; a repayment that keeps the visit's promise
    from django.core.management import call_command

    from cases.models import CallRecord, Repayment, VisitRecord

    common = {"case": worked_case, "collector": collector, "number": "13800000000", "result": "promise",
              "promise_amount": D("500.00")}
    CallRecord.objects.bulk_create([
        CallRecord(**common, started_at=at(2026, 11, 3), promise_date=dt.date(2026, 11, 5)),   # broken
        CallRecord(**common, started_at=at(2026, 11, 4), promise_date=dt.date(2026, 11, 6),
                   deleted_at=at(2026, 11, 4, 12)),                                             # deleted
    ])
    VisitRecord.objects.bulk_create([VisitRecord(
        case=worked_case, collector=collector, entered_by=collector, visited_on=dt.date(2026, 11, 10),
        address="沈阳市", result="promise", met_person="本人", promise_date=dt.date(2026, 11, 12),
        promise_amount=D("300.00"))])
    Repayment.objects.bulk_create([Repayment(case=worked_case, amount=D("300.00"), repaid_on=dt.date(2026, 11, 11),
                                             commission=D("0.00"), commission_rate=D("0"), recorded_by=clerk,
                                             collector=collector)])
    recorded = promise_call(worked_case, collector, day=dt.date(2026, 11, 30), amount="100.00")
    # when
    with time_machine.travel(at(2026, 11, 20), tick=False), django_capture_on_commit_callbacks(execute=True):
        counts = promises_backfill()
        again = promises_backfill()
    # then: one record each for the live bulk-written call and visit, decided by the matching rule
    rows = sorted(Promise.objects.exclude(call=recorded).values_list("source", "status", "paid_amount",
                                                                     "contact_label"))
    assert rows == [("call", "broken", D("0.00"), "138****0000"), ("visit", "kept", D("300.00"), "本人")]
    assert (counts["kept"], counts["broken"], sum(counts.values())) == (1, 1, 2)
    assert sum(again.values()) == 0 and Promise.objects.count() == 3
    assert not Reminder.objects.filter(kind=ReminderKind.PROMISE_BROKEN).exists()  # history, not news
    assert published.deliveries == []
    out = io.StringIO()
    call_command("backfill_promises", stdout=out)
    assert "没有需要补写的" in out.getvalue()
