"""连续外呼 through a real Asterisk (issue 17): two collectors' progressive sessions place more than 30 calls
collector-first through the product's Dialer, SIPp playing the phones and the carrier (…486 busy, …404 not found,
other numbers answer after 0.5 s and hang up 3 s later), each with a caller ID from the pool that the carrier sees
in its INVITE exactly as the product recorded it."""

from __future__ import annotations

import asyncio
import time

import pytest
from asgiref.sync import sync_to_async

from callerids.models import CallerNumber
from cases.actions.calls import call_outcome_record
from cases.enums import CallResult, CaseStatus
from cases.models import CallRecord
from progressive import actions as session_actions
from progressive.actions import session_start
from progressive.models import DialSession, SessionStatus
from tests import factories as f
from tests.asterisk.conftest import until_db
from tests.asterisk.test_caller_id import invites

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asterisk]

CASES_EACH = 16


def _world():
    bank = f.BankFactory()
    batch = f.BatchFactory(bank=bank)
    people = []
    for n, ext in enumerate(("8001", "8002")):
        collector = f.CollectorFactory(sip_endpoint=ext)
        ends = ["486" if j % 5 == 1 else "404" if j % 5 == 3 else "001" for j in range(CASES_EACH)]
        cases = [f.CaseFactory(batch=batch, collector=collector, status=CaseStatus.IN_PROGRESS,
                               mobile=f"139{n}{j:04d}{end}") for j, end in enumerate(ends)]
        people.append((collector, cases))
    return people


def _save_outcomes() -> int:
    saved = 0
    for call in CallRecord.objects.filter(answered_at__isnull=False, result="", ended_at__isnull=False):
        call_outcome_record(call=call, by=call.collector, result=CallResult.SELF_ANSWERED, note="连续外呼")
        saved += 1
    return saved


async def test_two_progressive_sessions_place_more_than_thirty_calls(running, asterisk, monkeypatch):
    monkeypatch.setattr(session_actions, "UNANSWERED_PAUSE_S", 0.3)
    pool = ("02161000011", "02161000012", "02161000013")
    for number in pool:
        await sync_to_async(CallerNumber.objects.create)(number=number)
    people = await sync_to_async(_world)()
    sessions = [await sync_to_async(session_start)(collector=c, case_ids=[x.pk for x in cases], wrap_up_s=5)
                for c, cases in people]
    peak_per_ext = 0
    async with running(progressive_tick_s=0.2, collector_ring_s=10, customer_ring_s=10) as r:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            per_ext: dict[str, int] = {}
            for call in r.handlers.live_calls():
                per_ext[call.session.collector_ext] = per_ext.get(call.session.collector_ext, 0) + 1
            peak_per_ext = max([peak_per_ext, *per_ext.values()])
            await sync_to_async(_save_outcomes)()  # the collectors save each outcome at once
            done = await sync_to_async(lambda: DialSession.objects.filter(status=SessionStatus.STOPPED).count())()
            if done == len(sessions):
                break
            await asyncio.sleep(0.2)
        await until_db(lambda: not DialSession.objects.exclude(current_call_uuid="").exists(), 30)
    # then: every case of both sessions was called once, in order, collector first
    records = await sync_to_async(lambda: list(CallRecord.objects.order_by("started_at")))()
    assert len(records) >= 30
    for collector, cases in people:
        mine = [r for r in records if r.collector_id == collector.pk]
        assert [r.case_id for r in mine] == [c.pk for c in cases]
    causes = {r.hangup_cause for r in records}
    assert causes <= {"通话结束", "对方忙", "无法接通"}, causes
    answered = [r for r in records if r.answered_at is not None]
    assert len(answered) == sum(1 for _, cases in people for c in cases if not c.mobile.endswith(("486", "404")))
    assert all(r.duration_s and r.duration_s >= 2 for r in answered)  # nobody answered into an empty line
    assert peak_per_ext == 1
    # and the carrier saw on each call the pool number the product recorded on it, the pool rotating
    seen = invites(asterisk)
    assert all(r.caller_id in pool for r in records), {r.caller_id for r in records}
    assert all(seen.get(r.number) == [r.caller_id] for r in records), [(r.number, r.caller_id, seen.get(r.number))
                                                                        for r in records if seen.get(r.number) !=
                                                                        [r.caller_id]][:5]
    assert {r.caller_id for r in records} == set(pool)
    for s in sessions:
        await sync_to_async(s.refresh_from_db)()
        assert (s.status, s.end_reason, s.calls) == (SessionStatus.STOPPED, "全部案件已拨完", CASES_EACH)
