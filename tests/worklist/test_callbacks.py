"""Callbacks (约定回电, issue 16 item 3): agreed within the calling window on a working day, a live reminder at
the time that opens the case, completed by the next call, overdue ones on top of the queue."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from cases.actions.calls import call_record_create
from cases.enums import CaseStatus, ReminderKind
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
