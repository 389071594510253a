"""P4: the collector enters the outcome of a call placed through the system on the record the dialer wrote."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.actions.calls import call_outcome_record, call_record_create
from cases.actions.dialer import dialer_call_write
from cases.enums import CallResult, CallSource, CaseEventType, CaseStatus
from cases.exceptions import CallOutcomeNotOpenError, CaseClosedForWorkError, PromiseDetailsRequiredError
from cases.models import CallRecord, CaseEvent, DailyCollectorStats
from realtime import groups
from realtime.events_calls import CallRecorded
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(make_case, collector):
    return make_case(collector=collector, status=CaseStatus.IN_PROGRESS, debtor_name="钱通话", mobile="13912345678")


def dialled(case, collector, *, answered=True, uuid="ari-1.1", result=""):
    start = timezone.now() - dt.timedelta(minutes=3)
    return call_record_create(
        case=case, collector=collector, by=collector, number="13912345678", source=CallSource.DIALER,
        started_at=start, answered_at=start + dt.timedelta(seconds=8) if answered else None,
        ended_at=start + dt.timedelta(seconds=98), call_uuid=uuid, result=result)


def outcome_url(call):
    return reverse("cases:call-outcome", args=[call.case_id, call.pk])


def test_the_collector_records_a_promise_on_the_dialled_call(case, collector):
    # given
    call = dialled(case, collector)
    promised = timezone.localdate() + dt.timedelta(days=5)
    # when
    call_outcome_record(call=call, by=collector, result=CallResult.PROMISE, promise_date=promised,
                        promise_amount=Decimal("800.00"), note="  说发工资后还  ")
    # then: the dialer's record carries the outcome; no second call record
    call.refresh_from_db()
    assert (call.result, call.promise_date, call.promise_amount, call.note) == (
        CallResult.PROMISE, promised, Decimal("800.00"), "说发工资后还")
    assert CallRecord.objects.count() == 1
    entry = CaseEvent.objects.filter(case=case, type=CaseEventType.CALL).order_by("-id").first()
    assert entry.data == {"call_id": call.pk, "outcome": True}
    assert "登记通话结果" in entry.summary and "承诺还款" in entry.summary and "¥800.00" in entry.summary


def test_the_outcome_is_entered_once_and_only_by_the_caller(case, collector, other_collector):
    # given
    call = dialled(case, collector)
    busy = dialled(case, collector, answered=False, uuid="ari-1.2", result=CallResult.BUSY)
    manual = call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                                result=CallResult.NO_ANSWER)
    # when / then
    with pytest.raises(CallOutcomeNotOpenError, match="只有拨打这通电话的业务员"):
        call_outcome_record(call=call, by=other_collector, result=CallResult.SELF_ANSWERED)
    call_outcome_record(call=call, by=collector, result=CallResult.SELF_ANSWERED)
    with pytest.raises(CallOutcomeNotOpenError, match="已登记结果“本人接听”"):
        call_outcome_record(call=call, by=collector, result=CallResult.NO_ANSWER)
    with pytest.raises(CallOutcomeNotOpenError, match="已登记结果“占线”"):
        call_outcome_record(call=busy, by=collector, result=CallResult.SELF_ANSWERED)
    with pytest.raises(CallOutcomeNotOpenError, match="只有系统拨出"):
        call_outcome_record(call=manual, by=collector, result=CallResult.SELF_ANSWERED)


def test_a_promise_needs_its_date_and_amount_and_a_closed_case_takes_no_outcome(case, collector):
    # given
    call = dialled(case, collector)
    # when / then
    with pytest.raises(PromiseDetailsRequiredError):
        call_outcome_record(call=call, by=collector, result=CallResult.PROMISE)
    type(case).objects.filter(pk=case.pk).update(status=CaseStatus.RETURNED)
    with pytest.raises(CaseClosedForWorkError):
        call_outcome_record(call=call, by=collector, result=CallResult.SELF_ANSWERED)
    call.refresh_from_db()
    assert call.result == ""


def test_an_unanswered_call_reported_as_answered_counts_as_connected(case, collector):
    # given: the exchange saw no answer and gave no result (e.g. the line dropped)
    call = dialled(case, collector, answered=False)
    before = DailyCollectorStats.objects.get(collector=collector, day=timezone.localdate())
    # when
    call_outcome_record(call=call, by=collector, result=CallResult.THIRD_PARTY)
    # then
    after = DailyCollectorStats.objects.get(collector=collector, day=timezone.localdate())
    assert (after.calls_made, after.calls_connected) == (before.calls_made, before.calls_connected + 1)


def test_case_page_offers_the_outcome_form_for_own_open_dialer_calls_and_saves_it(case, collector, client):
    # given
    call = dialled(case, collector)
    done = dialled(case, collector, uuid="ari-1.3", answered=False, result=CallResult.NO_ANSWER)
    client.force_login(collector)
    # when
    page = client.get(reverse("cases:case-work", args=[case.pk]), HTTP_HX_REQUEST="true").content.decode()
    # then: one form, for the call without a result
    assert page.count("登记结果</summary>") == 1 and outcome_url(call) in page and outcome_url(done) not in page
    # when: a promise without its amount, then a complete one
    prefix = f"outcome-{call.pk}-"
    day = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    bad = client.post(outcome_url(call), {prefix + "result": "promise", prefix + "promise_date": day},
                      HTTP_HX_REQUEST="true").content.decode()
    good = client.post(outcome_url(call), {prefix + "result": "promise", prefix + "promise_date": day,
                                           prefix + "promise_amount": "1200", prefix + "note": "下周二还"},
                       HTTP_HX_REQUEST="true").content.decode()
    # then
    assert "承诺还款时请填写承诺金额" in bad and "<details class=\"call-outcome\" open>" in bad
    call.refresh_from_db()
    assert (call.result, call.promise_amount, call.note) == (CallResult.PROMISE, Decimal("1200.00"), "下周二还")
    assert "通话结果已登记" in good and "登记结果</summary>" not in good and "下周二还" in good


def test_a_second_outcome_from_a_stale_page_says_what_was_recorded(case, collector, client):
    # given: the outcome was entered in another tab
    call = dialled(case, collector)
    call_outcome_record(call=call, by=collector, result=CallResult.SELF_ANSWERED)
    client.force_login(collector)
    # when: the form left open on this page is sent too
    page = client.post(outcome_url(call), {f"outcome-{call.pk}-result": "refused"},
                       HTTP_HX_REQUEST="true").content.decode()
    # then: the panel names the result already recorded, which stands
    assert "这通电话已登记结果“本人接听”" in page
    call.refresh_from_db()
    assert call.result == CallResult.SELF_ANSWERED


def test_nobody_else_can_post_an_outcome(case, collector, other_collector, clerk, manager, client):
    # given
    call = dialled(case, collector)
    url = outcome_url(call)
    data = {f"outcome-{call.pk}-result": "self_answered"}
    # when / then: the other collector does not see the case; desk roles watch, they do not enter work
    client.force_login(other_collector)
    assert client.post(url, data).status_code == 404
    for user in (clerk, manager):
        client.force_login(user)
        assert client.post(url, data).status_code == 403
    client.force_login(collector)
    assert client.get(url).status_code == 405
    call.refresh_from_db()
    assert call.result == ""


def test_a_deleted_call_has_no_outcome_page(case, collector, client):
    # given
    call = dialled(case, collector)
    CallRecord.objects.filter(pk=call.pk).update(deleted_at=timezone.now(), deleted_by=f.SysadminFactory())
    client.force_login(collector)
    # when
    response = client.post(outcome_url(call), {f"outcome-{call.pk}-result": "self_answered"})
    # then
    assert response.status_code == 404


def test_a_written_dialer_call_tells_its_collector_to_enter_the_outcome(case, collector, published,
                                                                        django_capture_on_commit_callbacks):
    # given
    start = timezone.now() - dt.timedelta(minutes=2)
    common = {"collector_id": collector.pk, "case_id": case.pk, "contact_id": None, "number": "13912345678",
              "direction": "outbound", "started_at": start, "ended_at": start + dt.timedelta(seconds=70)}
    # when: a connected call, and a busy one (its result comes from the exchange)
    with django_capture_on_commit_callbacks(execute=True):
        talked = dialer_call_write(call_uuid="ari-9.1", answered_at=start + dt.timedelta(seconds=6),
                                   cause="normal", cause_label="对方挂机", **common)
        busy = dialer_call_write(call_uuid="ari-9.2", answered_at=None, cause="busy", cause_label="占线", **common)
    # then
    recorded = [e for e in published.sent_to(groups.user(collector.pk)) if isinstance(e, CallRecorded)]
    assert [(e.case_id, e.call_id, e.needs_outcome) for e in recorded] == [
        (case.pk, talked.pk, True), (case.pk, busy.pk, False)]
