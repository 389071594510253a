"""Callbacks (约定回电, issue 16 item 3): agreed within the calling window on a working day, a live reminder at
the time that opens the case, completed by the next call, overdue ones on top of the queue."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from cases.actions.calls import call_outcome_record, call_record_create
from cases.enums import CallResult, CallSource, CaseStatus, ReminderKind
from cases.exceptions import CallbackTimeError
from cases.models import CaseEvent, Reminder
from cases.models.compliance import CallPolicy
from realtime import groups
from realtime.events_worklist import CallbackDue
from worklist.actions import callback_schedule, callbacks_fire_due
from worklist.exceptions import CallbackError
from worklist.models import Callback, CallbackStatus
from worklist.queue import work_queue_for_collector

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=SH)  # Friday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case(make_case, collector, clerk):
    return make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, assigned_at=NOW,
                     entrust_date=dt.date(2026, 9, 1), return_date=dt.date(2027, 1, 31))


@pytest.mark.django_db
@pytest.mark.parametrize(("when", "message"), [
    (NOW - dt.timedelta(minutes=1), "约定回电时间必须晚于现在"),
    (NOW + dt.timedelta(days=31), "约定回电时间不能超过 30 天"),
    (dt.datetime(2026, 11, 21, 10, 0, tzinfo=SH), "2026-11-21 不是工作日，请选择工作日"),   # Saturday
    (dt.datetime(2026, 10, 2, 10, 0, tzinfo=SH), "约定回电时间必须晚于现在"),
    (dt.datetime(2026, 11, 20, 21, 30, tzinfo=SH), "约定回电时间须在允许拨打时段 08:00–21:00 内"),
    (dt.datetime(2026, 11, 23, 7, 30, tzinfo=SH), "约定回电时间须在允许拨打时段 08:00–21:00 内"),
])
def test_callback_refused_outside_the_calling_rules(case, collector, when, message):
    with pytest.raises(CallbackError, match=message):
        callback_schedule(case=case, by=collector, due_at=when)
    assert not Callback.objects.exists()


@pytest.mark.django_db
def test_callback_follows_the_banks_window(case, collector):
    # given: this bank calls only until 18:00
    CallPolicy.objects.create(bank=case.bank, window_start=dt.time(9, 0), window_end=dt.time(18, 0))
    # then
    with pytest.raises(CallbackError, match="09:00–18:00"):
        callback_schedule(case=case, by=collector, due_at=NOW.replace(hour=19))


@pytest.mark.django_db
def test_callback_fires_once_at_its_time_with_a_live_reminder(case, collector, frozen, published,
                                                              django_capture_on_commit_callbacks):
    # given: agreed for 14:30, on the timeline
    cb = callback_schedule(case=case, by=collector, due_at=NOW.replace(hour=14, minute=30), note="下午发工资")
    assert "约定回电 2026-11-20 14:30：下午发工资" in CaseEvent.objects.filter(case=case).last().summary
    # when: the scheduler runs at 14:29, 14:30 and 14:31
    fired = []
    with django_capture_on_commit_callbacks(execute=True):
        for minute in (29, 30, 31):
            frozen.move_to(NOW.replace(hour=14, minute=minute))
            fired.append(callbacks_fire_due())
    # then: once, at 14:30, to the collector, with the case's link
    assert fired == [0, 1, 0]
    [event] = [e for e in published.sent_to(groups.user(collector.pk)) if isinstance(e, CallbackDue)]
    assert (event.callback_id, event.case_id, event.url) == (cb.pk, case.pk, reverse("cases:case-detail",
                                                                                        args=[case.pk]))
    reminder = Reminder.objects.get(user=collector, kind=ReminderKind.CALLBACK_DUE)
    assert reminder.text == "约定 14:30 回电：下午发工资"


@pytest.mark.django_db
def test_callback_done_by_the_next_call_and_leaves_the_queue(case, collector, frozen):
    # given: due and fired
    callback_schedule(case=case, by=collector, due_at=NOW.replace(hour=11))
    frozen.move_to(NOW.replace(hour=11, minute=5))
    callbacks_fire_due()
    assert work_queue_for_collector(collector=collector).items[0].case_id == case.pk
    # when
    call_record_create(case=case, collector=collector, number="13800000000", by=collector, result="self_answered")
    # then
    cb = Callback.objects.get()
    assert cb.status == CallbackStatus.DONE
    assert not Reminder.objects.filter(kind=ReminderKind.CALLBACK_DUE, resolved_at=None).exists()
    assert case.pk not in [i.case_id for i in work_queue_for_collector(collector=collector).items]


@pytest.mark.django_db
def test_overdue_callback_stays_in_the_queue_until_called(case, collector, frozen):
    # given: due at 11:00, nobody called back
    callback_schedule(case=case, by=collector, due_at=NOW.replace(hour=11))
    # when: 16:00
    frozen.move_to(NOW.replace(hour=16))
    items = work_queue_for_collector(collector=collector).items
    # then
    assert items[0].case_id == case.pk and items[0].top_reason == "callback"


@pytest.mark.django_db
def test_new_callback_replaces_the_pending_one(case, collector):
    first = callback_schedule(case=case, by=collector, due_at=NOW.replace(hour=15))
    callback_schedule(case=case, by=collector, due_at=NOW.replace(hour=16))
    first.refresh_from_db()
    assert first.status == CallbackStatus.CANCELLED
    assert Callback.objects.filter(status=CallbackStatus.PENDING).count() == 1


@pytest.mark.django_db
def test_callback_form_on_the_case_page(case, collector_client, clerk_client):
    # when
    bad = collector_client.post(reverse("worklist:callback-create", args=[case.pk]),
                                {"due_at": "2026-11-21T10:00"}).content.decode()
    good = collector_client.post(reverse("worklist:callback-create", args=[case.pk]),
                                 {"due_at": "2026-11-20T15:00", "note": "再联系"}).content.decode()
    # then
    assert "2026-11-21 不是工作日" in bad
    assert "2026-11-20 15:00" in good and "待回电" in good
    assert clerk_client.post(reverse("worklist:callback-create", args=[case.pk]),
                             {"due_at": "2026-11-20T15:00"}).status_code == 403


# --- From the call outcome form (issue 16 item 3: "from the call outcome form or the case page") -------------------

def _dialled(case, collector, uuid="ari-cb.1"):
    start = NOW - dt.timedelta(minutes=3)
    return call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                              source=CallSource.DIALER, started_at=start, answered_at=start + dt.timedelta(seconds=8),
                              ended_at=start + dt.timedelta(seconds=90), call_uuid=uuid)


@pytest.mark.django_db
def test_outcome_form_offers_a_callback_time_and_schedules_it(case, collector, client, frozen):
    # given: a dialled call waiting for its outcome
    call = _dialled(case, collector)
    client.force_login(collector)
    page = client.get(reverse("cases:case-work", args=[case.pk]), HTTP_HX_REQUEST="true").content.decode()
    prefix = f"outcome-{call.pk}-"
    assert f'name="{prefix}callback_at"' in page and "约定回电（可选）" in page
    # when: the debtor asks to be called back at 15:00
    response = client.post(reverse("cases:call-outcome", args=[case.pk, call.pk]),
                           {prefix + "result": CallResult.SELF_ANSWERED, prefix + "callback_at": "2026-11-20T15:00",
                            prefix + "note": "下午再打"}, HTTP_HX_REQUEST="true").content.decode()
    # then: one pending callback, agreed on this call, to the number dialled; the call did not complete it
    assert "通话结果已登记" in response
    cb = Callback.objects.get()
    assert (cb.status, cb.call_id, cb.collector_id, cb.phone) == (CallbackStatus.PENDING, call.pk, collector.pk,
                                                                  "13912345678")
    assert timezone.localtime(cb.due_at) == NOW.replace(hour=15)
    assert CaseEvent.objects.filter(case=case, summary="约定回电 2026-11-20 15:00：通话中约定").exists()
    # when: the call is saved again (its recording attached later), and the time comes
    call.refresh_from_db()
    call.save()
    frozen.move_to(NOW.replace(hour=15, minute=1))
    # then: still one, still pending, and on top of the queue
    assert list(Callback.objects.values_list("status", flat=True)) == [CallbackStatus.PENDING]
    item = work_queue_for_collector(collector=collector).items[0]
    assert (item.case_id, item.top_reason) == (case.pk, "callback")


@pytest.mark.django_db
@pytest.mark.parametrize(("when", "message"), [
    ("2026-11-21T10:00", "2026-11-21 不是工作日，请选择工作日"),   # Saturday
    ("2026-11-20T21:30", "约定回电时间须在允许拨打时段 08:00–21:00 内"),
    ("2026-11-20T09:00", "约定回电时间必须晚于现在"),
    ("2026-12-25T10:00", "约定回电时间不能超过 30 天"),
])
def test_outcome_form_refuses_a_callback_outside_the_calling_rules(case, collector, client, when, message):
    # given
    call = _dialled(case, collector)
    client.force_login(collector)
    prefix = f"outcome-{call.pk}-"
    # when
    page = client.post(reverse("cases:call-outcome", args=[case.pk, call.pk]),
                       {prefix + "result": CallResult.SELF_ANSWERED, prefix + "callback_at": when},
                       HTTP_HX_REQUEST="true").content.decode()
    # then: the form comes back open with the reason under the field; nothing saved
    assert message in page and '<details class="call-outcome" open>' in page
    call.refresh_from_db()
    assert call.result == "" and call.callback_at is None
    assert not Callback.objects.exists()


@pytest.mark.django_db
def test_outcome_callback_follows_the_banks_window(case, collector):
    # given: this bank calls only until 18:00
    CallPolicy.objects.create(bank=case.bank, window_start=dt.time(9, 0), window_end=dt.time(18, 0))
    call = _dialled(case, collector)
    # then
    with pytest.raises(CallbackTimeError, match="09:00–18:00"):
        call_outcome_record(call=call, by=collector, result=CallResult.SELF_ANSWERED,
                            callback_at=NOW.replace(hour=19))
    assert not Callback.objects.exists()


@pytest.mark.django_db
def test_a_callback_agreed_for_soon_is_not_completed_by_its_own_call(case, collector):
    # given: the call began at 09:57; the debtor asks for a call back at 10:20 (within the "rang a little early"
    # half hour of that call's start)
    call = _dialled(case, collector)
    # when
    call_outcome_record(call=call, by=collector, result=CallResult.SELF_ANSWERED, callback_at=NOW.replace(minute=20))
    # then: it waits for the next call
    assert Callback.objects.get().status == CallbackStatus.PENDING
    call_record_create(case=case, collector=collector, number="13912345678", by=collector, result="self_answered")
    assert Callback.objects.get().status == CallbackStatus.DONE
