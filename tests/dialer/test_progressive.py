"""Progressive dialling (连续外呼, issue 17) end to end: the real Dialer (aioari) against the ARI simulator and the
database. A collector's session rings their phone first and then the next allowed number of the next case; the
next call waits for the outcome or the wrap-up; pause, resume, skip and stop; the compliance guard's refusals are
logged and passed over; lines are shared fairly and click-to-call keeps priority; a restarted dialer goes on.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import zoneinfo

import pytest
import time_machine
from asgiref.sync import sync_to_async

from cases.actions.calls import call_outcome_record
from cases.enums import CallResult, CaseStatus
from cases.models import BlockedNumber, CallPolicy, CallRecord, CallRefusal
from cases.models.compliance import BlockedNumberReason
from dialer.app import Dialer
from progressive import actions as session_actions
from progressive.actions import session_pause, session_resume, session_skip, session_start, session_stop
from progressive.models import DialSession, EntryKind, SessionEntry, SessionStatus
from realtime import groups
from tests import factories as f
from tests.dialer.test_dialer import (  # noqa: F401  (the autouse fixtures apply here too)
    Running,
    _close_thread_connections,
    _inside_calling_hours,
    config_for,
    until,
    until_db,
)

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _short_pause(monkeypatch):
    """The pause after an unanswered attempt (3 s for a person) is 0.3 s here."""
    monkeypatch.setattr(session_actions, "UNANSWERED_PAUSE_S", 0.3)


@pytest.fixture
def running(simulator, sim):
    def start(**overrides) -> Running:
        dialer = Dialer(config_for(simulator, **{"progressive_tick_s": 0.1, **overrides}), heartbeat_s=0.5,
                        backoff_initial_s=0.1)
        return Running(dialer)
    return start


def make_cases(collector, numbers: list[str], bank=None):
    bank = bank or f.BankFactory()
    batch = f.BatchFactory(bank=bank)
    return [f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS, mobile=n) for n in numbers]


def _records(collector_id: int) -> list[CallRecord]:
    return list(CallRecord.objects.filter(collector_id=collector_id).order_by("started_at", "id"))


def _session(pk: int) -> DialSession:
    return DialSession.objects.get(pk=pk)


async def records(collector, n: int, timeout: float = 15) -> list[CallRecord]:
    return await until_db(lambda: (rows := _records(collector.pk)) and len(rows) >= n and rows, timeout)


async def test_session_dials_the_queue_in_order_and_waits_for_the_outcome(running, sim, published):
    # given: three cases; the first debtor answers, the second is busy, the third answers
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    cases = await sync_to_async(make_cases)(collector, ["13800000001", "13800000002", "13800000003"])
    await sim.script("13800000001", answer_after=1, hangup_after=2)
    await sim.script("13800000002", behaviour="busy")
    await sim.script("13800000003", answer_after=1, hangup_after=2)
    session = await sync_to_async(session_start)(collector=collector, case_ids=[c.pk for c in cases],
                                                 wrap_up_s=60)
    async with running():
        # when: the dialer runs; the first call connects and ends
        first = (await records(collector, 1))[0]
        await asyncio.sleep(1.0)
        # then: the next call waits for the outcome (the wrap-up is a minute)
        assert len(await sync_to_async(_records)(collector.pk)) == 1
        s = await sync_to_async(_session)(session.pk)
        assert s.awaiting_call_id == first.pk and s.connected == 1 and s.position == 1
        # when: the collector saves the outcome
        await sync_to_async(call_outcome_record)(call=first, by=collector, result=CallResult.SELF_ANSWERED, note="")
        rows = await records(collector, 3, timeout=30)  # two more calls, each after ringing the collector first
        await sync_to_async(call_outcome_record)(call=rows[2], by=collector, result=CallResult.PROMISE, note="",
                                                 promise_date=dt.date.today() + dt.timedelta(days=3),
                                                 promise_amount=100)
        s = await until_db(lambda: (x := _session(session.pk)).status == SessionStatus.STOPPED and x, 10)
    # then: the busy case, then the third; past the last case the session ends by itself
    assert [r.case_id for r in rows] == [c.pk for c in cases]
    assert [r.answered_at is not None for r in rows] == [True, False, True]
    assert (s.calls, s.connected, s.skipped, s.end_reason) == (3, 2, 0, "全部案件已拨完")
    # collector-first: the customer was dialled only after the collector's phone answered, so nobody waited
    assert not [r for r in rows if r.hangup_cause == "来电方接通前挂断"]
    events = published.messages_to(groups.user(collector.pk))
    assert any(m["type"] == "dialsession.changed" for m in events)
    # the case pops up on the collector's screen as the customer is dialled
    assert {m["case_url"] for m in events if m["type"] == "call.status_changed" and m["status"] == "dialling"
            and m["case_url"]} == {f"/cases/{c.pk}/" for c in cases}


async def test_unanswered_number_moves_to_the_next_number_of_the_case(running, sim):
    # given: the debtor's mobile does not answer; their spouse does, and the bank lets a third party be called
    # after one unanswered attempt on the debtor's numbers (the third-party rule)
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    bank = await sync_to_async(f.BankFactory)()
    await sync_to_async(CallPolicy.objects.create)(bank=bank, third_party_after_unanswered=1)
    [case] = await sync_to_async(make_cases)(collector, ["13800000011"], bank)
    contact = await sync_to_async(f.CaseContactFactory)(case=case, phone="13700000011", relation="配偶", name="周某")
    await sim.script("13800000011", behaviour="no_answer")
    await sim.script("13700000011", answer_after=1, hangup_after=1)
    session = await sync_to_async(session_start)(collector=collector, case_ids=[case.pk], wrap_up_s=5)
    async with running(customer_ring_s=5):
        rows = await records(collector, 2, timeout=20)
    # then
    assert [(r.number, r.contact_id) for r in rows] == [("13800000011", None), ("13700000011", contact.pk)]
    assert rows[1].answered_at is not None
    assert (await sync_to_async(_session)(session.pk)).number_index == 0  # the case is done


async def test_guard_refusals_are_logged_and_passed_over(running, sim):
    # given: a blocked number, a debtor at the day's answered cap, and one case that may be dialled
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    bank = await sync_to_async(f.BankFactory)()
    await sync_to_async(CallPolicy.objects.create)(bank=bank, max_answered_per_debtor=1, max_unanswered_per_number=6)
    blocked, capped, fine = await sync_to_async(make_cases)(collector, ["13800000021", "13800000022",
                                                                        "13800000023"], bank)
    await sync_to_async(BlockedNumber.objects.create)(number="13800000021", reason=BlockedNumberReason.EMPTY,
                                                      case=blocked, created_by=collector)

    def answered_earlier():
        now = dt.datetime.now(dt.UTC)
        CallRecord.objects.create(case=capped, collector=collector, number="13800000022", started_at=now,
                                  answered_at=now, ended_at=now, result=CallResult.SELF_ANSWERED)
    await sync_to_async(answered_earlier)()
    await sim.script("13800000023", answer_after=1, hangup_after=1)
    session = await sync_to_async(session_start)(collector=collector, case_ids=[blocked.pk, capped.pk, fine.pk],
                                                 wrap_up_s=5)
    async with running():
        await until_db(lambda: CallRecord.objects.filter(number="13800000023").exists(), 15)
    # then: only the allowed number was dialled; the others are on the session's log with their rule
    dialled = await sync_to_async(lambda: list(CallRecord.objects.filter(collector=collector, call_uuid__isnull=False)
                                               .values_list("number", flat=True)))()
    assert dialled == ["13800000023"]
    entries = await sync_to_async(lambda: list(
        SessionEntry.objects.filter(session_id=session.pk, kind=EntryKind.REFUSED).order_by("id")
        .values_list("case_id", "rule")))()
    assert entries == [(blocked.pk, "empty"), (capped.pk, "answered_cap")]
    refusals = await sync_to_async(lambda: set(CallRefusal.objects.values_list("case_id", "rule")))()
    assert refusals == {(blocked.pk, "empty"), (capped.pk, "answered_cap")}
    assert (await sync_to_async(_session)(session.pk)).skipped == 2


async def test_pause_resume_skip_and_stop(running, sim):
    # given: a paused session of three cases
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    cases = await sync_to_async(make_cases)(collector, ["13800000031", "13800000032", "13800000033"])
    for c in cases:
        await sim.script(c.mobile, answer_after=1, hangup_after=1)
    session = await sync_to_async(session_start)(collector=collector, case_ids=[c.pk for c in cases], wrap_up_s=5)
    await sync_to_async(session_pause)(session=session, by=collector)
    async with running():
        await asyncio.sleep(1.0)
        # then: nothing is dialled while paused
        assert await sync_to_async(_records)(collector.pk) == []
        # when: the collector skips the first case and resumes
        await sync_to_async(session_skip)(session=session, by=collector)
        await sync_to_async(session_resume)(session=session, by=collector)
        first = (await records(collector, 1))[0]
        # when: they stop during the wrap-up
        await sync_to_async(session_stop)(session=session, by=collector)
        await asyncio.sleep(6.5)
    # then: the second case was called, the first skipped, the third never (stopped)
    assert first.case_id == cases[1].pk
    assert [r.case_id for r in await sync_to_async(_records)(collector.pk)] == [cases[1].pk]
    s = await sync_to_async(_session)(session.pk)
    assert s.status == SessionStatus.STOPPED and s.ended_at is not None
    skipped = await sync_to_async(lambda: list(s.entries.filter(kind=EntryKind.CASE_SKIPPED)
                                               .values_list("case_id", flat=True)))()
    assert skipped == [cases[0].pk]


async def test_collector_not_answering_pauses_the_session(running, sim):
    # given: the collector's phone rings out
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    [case] = await sync_to_async(make_cases)(collector, ["13800000041"])
    await sim.phone("8001", behaviour="no_answer")
    session = await sync_to_async(session_start)(collector=collector, case_ids=[case.pk], wrap_up_s=5)
    async with running(collector_ring_s=2):
        s = await until_db(lambda: (x := _session(session.pk)).status == SessionStatus.PAUSED and x, 15)
        await asyncio.sleep(1)
        calls = await sync_to_async(_records)(collector.pk)
    # then: one ring of their phone, no customer dialled, the number kept for when they resume
    assert len(calls) == 1 and calls[0].answered_at is None and calls[0].hangup_cause == "业务员未接听"
    assert "没有接听" in s.pause_reason and (s.position, s.number_index) == (0, 0)


async def test_lines_are_shared_fairly_and_one_is_kept_for_click_to_call(running, sim, simulator):
    # given: 4 collectors in sessions sharing 2 lines (the others kept for click-to-call); every customer talks a while
    exts = ["8001", "8002", "8003", "8004"]
    collectors = [await sync_to_async(f.CollectorFactory)(sip_endpoint=e) for e in exts]
    sessions = []
    for i, collector in enumerate(collectors):
        numbers = [f"1380001{i}{j:03d}" for j in range(6)]
        for n in numbers:
            await sim.script(n, answer_after=1, hangup_after=20)
        cases = await sync_to_async(make_cases)(collector, numbers)
        sessions.append(await sync_to_async(session_start)(collector=collector, case_ids=[c.pk for c in cases],
                                                           wrap_up_s=5))
    peak_total, peak_per_ext = 0, 0
    # 6 lines of which 4 are kept for click-to-call and inbound, from the dialer's start (set later, a tick under
    # load could already have used more)
    async with running(lines=6, progressive_reserve_lines=4) as r:
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline:
            live = r.handlers.live_calls()
            peak_total = max(peak_total, len(live))
            per_ext: dict[str, int] = {}
            for c in live:
                per_ext[c.session.collector_ext] = per_ext.get(c.session.collector_ext, 0) + 1
            peak_per_ext = max([peak_per_ext, *per_ext.values()])
            await asyncio.sleep(0.02)
        # then: a click-to-call still finds its line
        for s in sessions:
            await sync_to_async(session_pause)(session=s, by=s.collector)
        await until(lambda: not r.handlers.live_calls(), 10)
    made = {c.pk: await sync_to_async(lambda c=c: CallRecord.objects.filter(collector=c).count())()
            for c in collectors}
    # never more than 2 progressive calls (6 lines, 4 kept), never two lines for one collector
    assert peak_total == 2 and peak_per_ext == 1
    # every collector got their turn (the longest-waiting first), none starved
    assert min(made.values()) >= 1 and max(made.values()) - min(made.values()) <= 1
    assert not await sync_to_async(CallRefusal.objects.filter(rule="lines_busy").exists)()


async def test_session_survives_a_dialer_restart(running, sim):
    # given: a session whose dialer process dies mid-call (no drain, nothing written)
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    cases = await sync_to_async(make_cases)(collector, ["13800000051", "13800000052"])
    await sim.script("13800000051", answer_after=1, hangup_after=40)
    await sim.script("13800000052", answer_after=1, hangup_after=1)
    session = await sync_to_async(session_start)(collector=collector, case_ids=[c.pk for c in cases], wrap_up_s=5)
    first = running()
    await first.__aenter__()
    await until(lambda: any(c.session.connected_at for c in first.handlers.live_calls()), 10)
    call_uuid = first.handlers.live_calls()[0].uuid
    # the process is killed: its tasks stop, the call stays up on "Asterisk"
    first.task.cancel()
    await asyncio.wait({first.task}, timeout=5)
    assert (await sync_to_async(_session)(session.pk)).current_call_uuid == call_uuid
    # when: a new dialer process starts
    async with running() as second:
        # then: it adopts the call with its session; when it ends the session goes on to the next case
        await until(lambda: call_uuid in second.handlers.calls
                    and second.handlers.calls[call_uuid].session_id == session.pk, 10)
        rows = await records(collector, 2, timeout=20)
    assert [r.case_id for r in rows] == [c.pk for c in cases]
    assert rows[0].call_uuid == call_uuid and rows[0].answered_at is not None
    s = await sync_to_async(_session)(session.pk)
    assert s.connected == 2 and s.current_call_uuid == ""


async def test_reconnect_frees_a_session_whose_call_vanished(running, sim):
    # given: a session with a call the dialer never had (a process that died before Asterisk took the call)
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    [case] = await sync_to_async(make_cases)(collector, ["13800000061"])
    await sim.script("13800000061", answer_after=1, hangup_after=1)
    session = await sync_to_async(session_start)(collector=collector, case_ids=[case.pk], wrap_up_s=5)
    await sync_to_async(DialSession.objects.filter(pk=session.pk).update)(current_call_uuid="gone-call")
    # when: the dialer starts (its first resync)
    async with running():
        rows = await records(collector, 1)
    # then: the session was freed and dialled its case
    assert rows[0].case_id == case.pk


async def test_outside_the_calling_window_the_session_pauses_instead_of_skipping(running, sim):
    # given: a session started at 21:30 Shanghai time, after the default window
    collector = await sync_to_async(f.CollectorFactory)(sip_endpoint="8001")
    cases = await sync_to_async(make_cases)(collector, ["13800000071", "13800000072"])
    session = await sync_to_async(session_start)(collector=collector, case_ids=[c.pk for c in cases], wrap_up_s=5)
    late = dt.datetime.combine(dt.datetime.now(SHANGHAI).date(), dt.time(21, 30), tzinfo=SHANGHAI)
    with time_machine.travel(late, tick=True):
        async with running():
            s = await until_db(lambda: (x := _session(session.pk)).status == SessionStatus.PAUSED and x, 10)
    # then: nothing dialled, the cases kept, the reason shown
    assert not await sync_to_async(CallRecord.objects.filter(collector=collector).exists)()
    assert (s.position, s.number_index) == (0, 0) and "不在允许拨打时段" in s.pause_reason
