"""The dialer and the caller-ID pool on the ARI simulator (issue 17): the chosen pool number is set as caller ID on
the trunk leg (what the carrier is sent) and recorded on the call; its attempt is counted, given back when the
customer is never dialled; a pool at its caps refuses the call with the reason; an inbound call to a pool number is
recorded as a call back to that number."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from callerids.models import CallerNumber, CallerNumberDay
from callerids.selectors import local_day
from cases.models import CallRecord, CallRefusal
from tests.dialer import test_dialer as dialer_tests

# The dialer's fixtures (the autouse ones too) and helpers, shared with tests/dialer/test_dialer.py.
running, world = dialer_tests.running, dialer_tests.world
_inside_calling_hours = dialer_tests._inside_calling_hours
_close_thread_connections = dialer_tests._close_thread_connections
_record, until_db, dial = dialer_tests._record, dialer_tests.until_db, dialer_tests.dial

pytestmark = pytest.mark.django_db(transaction=True)


def _day(number: str) -> tuple[int, int]:
    from django.utils import timezone

    row = CallerNumberDay.objects.filter(caller_number__number=number, day=local_day(timezone.now())).first()
    return (row.attempts, row.answered) if row else (0, 0)


async def test_answered_call_shows_the_pool_number_to_the_carrier_and_records_it(running, sim, world):
    # given: a shared number and one of the case's bank
    await sync_to_async(CallerNumber.objects.create)(number="02161000001")
    await sync_to_async(CallerNumber.objects.create)(number="02161000002", bank=world.bank)
    await sim.script("13800138000", answer_after=0.5, hangup_after=1)
    async with running():
        # when
        call_uuid = await dial(world)
        record = await until_db(lambda: _record(call_uuid), 15)
    # then: the bank's own number, on the trunk leg and on the record, counted as one answered attempt
    dials = (await sim.state())["trunk_dials"]
    assert [(d["number"], d["caller_id"]) for d in dials] == [("13800138000", "02161000002")]
    assert record.caller_id == "02161000002" and record.answered_at is not None
    assert await sync_to_async(_day)("02161000002") == (1, 1)
    assert await sync_to_async(_day)("02161000001") == (0, 0)


async def test_calls_rotate_over_the_pool(running, sim, world):
    # given
    for n in ("02161000001", "02161000002"):
        await sync_to_async(CallerNumber.objects.create)(number=n)
    await sim.script("13800138000", behaviour="busy")
    async with running():
        # when: two calls one after the other
        for _ in range(2):
            call_uuid = await dial(world)
            await until_db(lambda u=call_uuid: _record(u), 15)
    # then
    shown = [d["caller_id"] for d in (await sim.state())["trunk_dials"]]
    assert sorted(shown) == ["02161000001", "02161000002"]


async def test_attempt_is_given_back_when_the_collector_does_not_answer(running, sim, world):
    # given
    await sync_to_async(CallerNumber.objects.create)(number="02161000001", daily_cap=1)
    await sim.phone("8001", behaviour="no_answer")
    async with running(collector_ring_s=1):
        # when
        call_uuid = await dial(world)
        record = await until_db(lambda: _record(call_uuid), 15)
    # then: the customer was never dialled: no caller ID on the record, the day's only attempt still free
    assert record.caller_id == "" and (await sim.state())["trunk_dials"] == []
    assert await sync_to_async(_day)("02161000001") == (0, 0)


async def test_a_pool_at_its_caps_refuses_the_call_with_the_reason(running, sim, world):
    # given: the only number has made its one call today
    number = await sync_to_async(CallerNumber.objects.create)(number="02161000001", daily_cap=1)
    from django.utils import timezone

    await sync_to_async(CallerNumberDay.objects.create)(caller_number=number, day=local_day(timezone.now()),
                                                        attempts=1)
    async with running() as run:
        # when
        await run.handlers.originate(call_uuid="cap-1", collector_id=world.collector.pk, extension="8001",
                                     case_id=world.case.pk, contact_id=None, number="13800138000")
    # then
    refusal = await sync_to_async(CallRefusal.objects.get)()
    assert refusal.rule == "caller_id_full" and refusal.get_rule_display() == "外显号码当日额度已用完"
    assert refusal.message.startswith("外显号码今天的外呼次数已用完（1 个号码都已达到每日上限）")
    assert (await sim.state())["trunk_dials"] == []
    assert not await sync_to_async(CallRecord.objects.exists)()


async def test_inbound_call_to_a_pool_number_is_recorded_as_a_call_back_to_it(running, sim, world):
    # given: the debtor calls back the number they saw, written as the carrier sends it
    await sync_to_async(CallerNumber.objects.create)(number="02161000001")
    await sim.phone("8001", answer_after=0.3)
    async with running():
        # when
        started = await sim.inbound("13800138000", "+862161000001", hangup_after=1)
        record = await until_db(lambda: _record(started["channel_id"]), 15)
    # then
    assert (record.direction, record.case_id, record.caller_id) == ("inbound", world.case.pk, "02161000001")


async def test_inbound_call_to_another_number_names_no_pool_number(running, sim, world):
    # given
    await sync_to_async(CallerNumber.objects.create)(number="02161000001")
    await sim.phone("8001", answer_after=0.3)
    async with running():
        # when
        started = await sim.inbound("13800138000", "95555", hangup_after=1)
        record = await until_db(lambda: _record(started["channel_id"]), 15)
    # then
    assert record.caller_id == ""
