"""The Dialer end to end: real aioari over HTTP and websocket against the ARI simulator, real database.

Each test starts a Dialer on the simulator (tests/dialer/conftest.py), drives it as the web would (the
dial_request action sends the command over the channel layer) or straight through its handlers, and checks
what lands in the domain: call records, recordings (stored, SHA-256, deleted on "Asterisk"), refusals and
the collector's CallStatusChanged events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import io
import time
import zoneinfo

import pytest
import time_machine
from asgiref.sync import sync_to_async
from django.core.cache import cache

from cases.actions.dialer import DialRefusedError, dial_request, recording_match
from cases.enums import CallDirection, CallResult, CallSource, CaseStatus
from cases.models import BlockedNumber, CallPolicy, CallRecord, CallRefusal, PendingRecording
from cases.models.compliance import BlockedNumberReason
from cases.selectors.dialer import unmatched_recordings
from dialer.app import HEALTH_KEY, Dialer
from dialer.config import DialerConfig
from realtime import groups
from tests import factories as f
from tests.dialer.conftest import ARI_PASSWORD, ARI_USER

pytestmark = pytest.mark.django_db(transaction=True)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def config_for(simulator, **overrides) -> DialerConfig:
    values = {"ari_url": simulator.url, "ari_user": ARI_USER, "ari_password": ARI_PASSWORD, "app": "collect",
                  "trunk": "trunk", "lines": 6, "drain_timeout_s": 20, "collector_ring_s": 20, "customer_ring_s": 20,
                  "reconnect_max_s": 1, "simulator": False, "fallback_extensions": ("8002",)}
    values.update(overrides)
    return DialerConfig(**values)


@pytest.fixture(autouse=True)
def _inside_calling_hours():
    """Every test runs at 10:00 Shanghai time (the clock ticks on), inside the default calling window."""
    today = dt.datetime.now(SHANGHAI).date()
    with time_machine.travel(dt.datetime.combine(today, dt.time(10, 0), tzinfo=SHANGHAI), tick=True):
        yield


@pytest.fixture(autouse=True)
async def _close_thread_connections():
    """The test's and the dialer's sync_to_async thread keeps its connection; PostgreSQL would then refuse
    to drop the test database."""
    yield
    from django.db import connections

    await sync_to_async(connections.close_all)()


@pytest.fixture
def world(db):
    bank = f.BankFactory()
    collector = f.CollectorFactory(sip_endpoint="8001")
    other = f.CollectorFactory(sip_endpoint="8002")
    case = f.CaseFactory(batch=f.BatchFactory(bank=bank), collector=collector, status=CaseStatus.IN_PROGRESS,
                         mobile="13800138000")
    # The debtor's second number (a third party would wait for the third-party rule, issue 17).
    contact = f.CaseContactFactory(case=case, phone="13700137000", relation="本人", name="第二号码")
    return type("World", (), {"bank": bank, "collector": collector, "other": other, "case": case,
                              "contact": contact})


class Running:
    def __init__(self, dialer: Dialer) -> None:
        self.dialer = dialer
        self.task: asyncio.Task | None = None

    @property
    def handlers(self):
        return self.dialer.handlers

    async def __aenter__(self) -> Running:
        self.task = asyncio.create_task(self.dialer.run(install_signals=False))
        await until(lambda: self.dialer.client.connected.is_set(), 10)
        await until_db(lambda: bool((cache.get(HEALTH_KEY) or {}).get("ari_connected")), 10)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.dialer.handlers.end_all()
        self.dialer.config = self.dialer.config  # noqa: PLW0127 - keep the drain short
        object.__setattr__(self.dialer.config, "drain_timeout_s", 1)
        self.dialer.stop()
        assert self.task is not None
        await returns(self.task, 20)


@pytest.fixture
def running(simulator, sim):
    def start(**overrides) -> Running:
        return Running(Dialer(config_for(simulator, **overrides), heartbeat_s=0.5, backoff_initial_s=0.1))
    return start


async def returns(task: asyncio.Task, seconds: float) -> None:
    """Wait for the dialer's run() to return; if it does not, fail showing where every pending task waits."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if done:
        task.result()
        return
    stacks = io.StringIO()
    for pending in asyncio.all_tasks():
        if pending is not asyncio.current_task():
            print(f"--- {pending.get_name()} {pending.get_coro()!r}", file=stacks)
            pending.print_stack(file=stacks)
    task.cancel()
    await asyncio.wait({task}, timeout=5)  # let run()'s finally close the HTTP session
    raise AssertionError(f"Dialer.run() did not return within {seconds}s after stop(); tasks:\n{stacks.getvalue()}")


async def until(predicate, timeout: float = 10.0, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(step)
    raise AssertionError("condition not met in time")


async def until_db(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await sync_to_async(predicate)()
        if value:
            return value
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


def statuses(published, user) -> list[str]:
    return [m["status"] for m in published.messages_to(groups.user(user.pk)) if m["type"] == "call.status_changed"]


def board(published) -> list[tuple[int, int]]:
    """What the lines board was told: (lines in use, lines) per lines.changed, in order."""
    return [(m["in_use"], m["lines"]) for m in published.messages_to(groups.lines())]


def last_message(published, user) -> dict:
    return [m for m in published.messages_to(groups.user(user.pk)) if m["type"] == "call.status_changed"][-1]


def _record(call_uuid: str) -> CallRecord | None:
    return CallRecord.objects.select_related("recording").filter(call_uuid=call_uuid).first()


def read_stored(stored) -> bytes:
    with stored.file.open("rb") as fh:
        return fh.read()


async def dial(world, **kwargs) -> str:
    return await sync_to_async(dial_request)(case=world.case, by=world.collector, **kwargs)


# ---- outbound -------------------------------------------------------------------------------------------

async def test_outbound_answered_call_lands_on_the_case_with_its_recording(running, sim, world, published):
    # given: the contact answers after 1 s and talks 3 s
    await sim.script("13700137000", answer_after=1, hangup_after=3)
    async with running():
        # when: the collector clicks the contact's dial button
        call_uuid = await dial(world, contact=world.contact)
        record = await until_db(lambda: (r := _record(call_uuid)) is not None and r.recording_id and r, 15)
        deadline = time.monotonic() + 5  # the board's last word is the line freed (at most 5 notes a second)
        while board(published)[-1:] != [(0, 6)] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    # then
    assert (record.case_id, record.collector_id, record.contact_id) == (world.case.pk, world.collector.pk,
                                                                        world.contact.pk)
    assert (record.number, record.direction, record.source) == ("13700137000", CallDirection.OUTBOUND,
                                                                CallSource.DIALER)
    assert record.answered_at is not None and record.ended_at > record.answered_at
    assert 2 <= record.duration_s <= 4
    assert record.hangup_cause == "通话结束"
    stored = record.recording
    data = await sync_to_async(read_stored)(stored)
    assert data[:4] == b"RIFF" and stored.sha256 == hashlib.sha256(data).hexdigest() and stored.case_id == world.case.pk
    assert not await sync_to_async(PendingRecording.objects.exists)()
    assert (await sim.state())["stored_recordings"] == []  # deleted on Asterisk once stored here
    assert statuses(published, world.collector) == ["requested", "ringing", "dialling", "dialling", "connected",
                                                    "ended"]
    assert last_message(published, world.collector)["message"] == "通话结束"
    # the lines board heard the line taken and freed again (M7), without polling
    assert (1, 6) in board(published) and board(published)[-1] == (0, 6)
    assert {m["type"] for m in published.messages_to(groups.lines())} == {"lines.changed"}


async def test_outbound_busy_customer(running, sim, world, published):
    # given
    await sim.script("13800138000", behaviour="busy")
    async with running():
        # when: dialling the debtor's own mobile (no contact)
        call_uuid = await dial(world)
        record = await until_db(lambda: _record(call_uuid), 10)
    # then
    assert (record.result, record.hangup_cause, record.answered_at) == (CallResult.BUSY, "对方忙", None)
    assert record.recording_id is None and not await sync_to_async(PendingRecording.objects.exists)()
    assert last_message(published, world.collector)["status"] == "ended"
    assert last_message(published, world.collector)["message"] == "对方忙"


async def test_outbound_no_answer(running, sim, world):
    # given: nobody picks up within the 20 s customer ring time (2 s at simulator speed)
    await sim.script("13800138000", behaviour="no_answer")
    async with running():
        # when
        call_uuid = await dial(world)
        record = await until_db(lambda: _record(call_uuid), 15)
    # then
    assert (record.result, record.hangup_cause) == (CallResult.NO_ANSWER, "无人接听")


async def test_collector_phone_offline_is_refused_at_once(running, sim, world, published):
    # given
    await sim.phone("8001", online=False)
    async with running():
        # when
        call_uuid = await dial(world)
        refusal = await until_db(lambda: CallRefusal.objects.first(), 5)
    # then
    assert (refusal.rule, refusal.collector_id) == ("phone_offline", world.collector.pk)
    assert "不在线" in refusal.message
    message = last_message(published, world.collector)
    assert (message["call_uuid"], message["status"]) == (call_uuid, "refused")
    assert not await sync_to_async(CallRecord.objects.exists)()


async def test_every_line_busy_refuses_the_next_call(running, sim, world):
    # given: six collectors whose phones ring and ring, each holding one of the six lines
    exts = [f"81{i:02d}" for i in range(7)]
    for ext in exts:
        await sim.phone(ext, behaviour="no_answer")
    collectors = await sync_to_async(lambda: [f.CollectorFactory(sip_endpoint=e) for e in exts])()
    async with running(collector_ring_s=300) as run:
        for i, (ext, who) in enumerate(zip(exts[:6], collectors, strict=False)):
            await run.handlers.originate(call_uuid=f"l{i}", collector_id=who.pk, extension=ext, case_id=None,
                                         contact_id=None, number=f"1390000000{i}")
        # when
        refused = await run.handlers.originate(call_uuid="l6", collector_id=collectors[6].pk, extension=exts[6],
                                               case_id=None, contact_id=None, number="13900000006")
        # then
        assert refused is None and run.handlers.lines_in_use() == 6
        refusal = await sync_to_async(CallRefusal.objects.get)()
        assert (refusal.rule, refusal.collector_id) == ("lines_busy", collectors[6].pk)
        assert "外线全忙" in refusal.message


async def test_dial_refused_while_the_dialer_is_not_connected(world):
    # given: no dialer heartbeat at all
    await sync_to_async(cache.delete)(HEALTH_KEY)
    # when / then
    with pytest.raises(DialRefusedError, match="呼叫系统未连接"):
        await dial(world)


# ---- compliance -----------------------------------------------------------------------------------------

async def _refusal_for(run, world, number="13800138000"):
    await run.handlers.originate(call_uuid="c", collector_id=world.collector.pk, extension="8001",
                                 case_id=world.case.pk, contact_id=None, number=number)
    return await sync_to_async(CallRefusal.objects.filter(rule__isnull=False).order_by("-id").first)()


async def test_compliance_outside_the_calling_window(running, world):
    async with running() as run:
        today = dt.datetime.now(SHANGHAI).date()
        # given: 21:05 Shanghai time, the default window closes at 21:00
        with time_machine.travel(dt.datetime.combine(today, dt.time(21, 5), tzinfo=SHANGHAI), tick=False):
            # when
            refusal = await _refusal_for(run, world)
    # then
    assert refusal.rule == "window"
    assert refusal.message == "现在是 21:05，不在允许拨打时段（08:00–21:00）内"


async def test_compliance_bank_window_and_caps(running, world):
    # given: this bank allows calls until 21:30 but only 1 answered call per debtor and 2 attempts per number
    await sync_to_async(CallPolicy.objects.create)(bank=world.bank, window_end=dt.time(21, 30),
                                                  max_answered_per_debtor=1, max_unanswered_per_number=2)
    today = dt.datetime.now(SHANGHAI).date()
    async with running() as run:
        with time_machine.travel(dt.datetime.combine(today, dt.time(21, 10), tzinfo=SHANGHAI), tick=False):
            now = dt.datetime.now(dt.UTC)
            for _ in range(2):
                await sync_to_async(CallRecord.objects.create)(case=world.case, collector=world.collector,
                                                              number="13900001111", started_at=now)
            # when / then: two unanswered attempts on that number
            assert (await _refusal_for(run, world, "13900001111")).rule == "unanswered_cap"
            # when / then: one answered call with the debtor (on any number)
            await sync_to_async(CallRecord.objects.create)(case=world.case, collector=world.collector,
                                                          number="13900002222", started_at=now, answered_at=now)
            refusal = await _refusal_for(run, world, "13900003333")
            assert refusal.rule == "answered_cap" and "上限 1 次" in refusal.message


async def test_compliance_blocked_numbers(running, world):
    # given
    await sync_to_async(BlockedNumber.objects.create)(number="13800138000", reason=BlockedNumberReason.EMPTY)
    await sync_to_async(BlockedNumber.objects.create)(number="13700137000", reason=BlockedNumberReason.DO_NOT_CALL)
    async with running() as run:
        # when / then
        assert (await _refusal_for(run, world, "13800138000")).message == "该号码已标记为空号，不能拨打"
        assert (await _refusal_for(run, world, "13700137000")).rule == "do_not_call"
    assert not await sync_to_async(CallRecord.objects.exists)()


# ---- inbound --------------------------------------------------------------------------------------------

async def test_inbound_caller_with_a_case_reaches_its_collector_with_the_case_popping_up(running, sim, world,
                                                                                         published):
    async with running():
        # when: the debtor calls in and hangs up after talking
        injected = await sim.inbound("13800138000", "80001234")
        assert injected["stasis"] == "STARTED"
        await until(lambda: "connected" in statuses(published, world.collector), 10)
        await asyncio.sleep(0.3)
        await sim.far_hangup(injected["channel_id"])
        record = await until_db(lambda: (r := _record(injected["channel_id"])) is not None and r.recording_id and r,
                                10)
    # then
    assert (record.direction, record.case_id, record.collector_id) == (CallDirection.INBOUND, world.case.pk,
                                                                      world.collector.pk)
    assert record.answered_at is not None
    ringing = [m for m in published.messages_to(groups.user(world.collector.pk)) if m.get("status") == "ringing"][0]
    assert ringing["case_url"] == f"/cases/{world.case.pk}/"


async def test_inbound_unknown_caller_goes_to_the_fallback_group_and_its_recording_is_unmatched(running, sim, world,
                                                                                               published):
    async with running():
        # when
        injected = await sim.inbound("13612345678", "80001234")
        await until(lambda: "connected" in statuses(published, world.other), 10)
        await sim.far_hangup(injected["channel_id"])
        record = await until_db(lambda: (r := _record(injected["channel_id"])) is not None and r.recording_id and r,
                                10)
    # then: answered by the fallback collector, on no case, listed as unmatched
    assert (record.case_id, record.collector_id) == (None, world.other.pk)
    assert await sync_to_async(lambda: list(unmatched_recordings()))() == [record]
    # when: matched to the case
    await sync_to_async(recording_match)(call=record, case=world.case, by=world.other)
    # then
    assert await sync_to_async(lambda: list(unmatched_recordings()))() == []
    record = await sync_to_async(_record)(injected["channel_id"])
    assert (record.case_id, record.recording.case_id) == (world.case.pk, world.case.pk)


# ---- faults ---------------------------------------------------------------------------------------------

async def test_websocket_dropped_mid_call_is_reconciled(running, sim, world, published):
    # given: a call in progress
    await sim.script("13800138000", answer_after=0.5)
    async with running() as run:
        call_uuid = await dial(world)
        await until(lambda: "connected" in statuses(published, world.collector), 10)
        # when: the events websocket drops and the customer hangs up while nobody listens
        await sim.drop_websocket()
        await sim.far_hangup(f"{call_uuid}-cust")
        record = await until_db(lambda: (r := _record(call_uuid)) is not None and r.recording_id and r, 15)
        # then: the reconnect found the leg gone, closed the call, and fetched the recording it never heard of
        assert run.dialer.client.connects >= 2
    assert record.hangup_cause == "呼叫系统重启或中断，通话已断开"
    assert record.answered_at is not None
    assert (await sim.state())["channels"] == []


async def test_simulator_restart_mid_call_closes_the_call_with_a_cause(running, sim, world, published):
    # given
    await sim.script("13800138000", answer_after=0.5)
    async with running():
        call_uuid = await dial(world)
        await until(lambda: "connected" in statuses(published, world.collector), 10)
        # when
        await sim.restart()
        record = await until_db(lambda: _record(call_uuid), 15)
    # then
    assert record.hangup_cause == "呼叫系统重启或中断，通话已断开"
    assert last_message(published, world.collector)["status"] == "ended"


async def test_originate_refused_while_the_events_websocket_is_down(running, sim, world):
    async with running() as run:
        run.dialer.client.connected.clear()  # as between a drop and the reconnect
        await run.handlers.originate(call_uuid="x", collector_id=world.collector.pk, extension="8001",
                                     case_id=world.case.pk, contact_id=None, number="13800138000")
        refusal = await sync_to_async(CallRefusal.objects.get)()
        run.dialer.client.connected.set()
    assert refusal.rule == "not_connected" and "呼叫系统未连接" in refusal.message
    assert (await sim.state())["channels"] == []


async def test_supervisor_listens_in_on_a_live_call(running, sim, world, published):
    # given
    await sim.script("13800138000", answer_after=0.5)
    async with running() as run:
        call_uuid = await dial(world)
        await until(lambda: "connected" in statuses(published, world.collector), 10)
        # when: the manager on extension 8003 listens in
        await run.handlers.listen_in(call_uuid=call_uuid, extension="8003")

        async def listening():
            state = await sim.state()
            return [b for b in state["bridges"] if len(b["channels"]) == 2 and b["id"].startswith("lb-")]
        bridges = []
        for _ in range(100):
            if bridges := await listening():
                break
            await asyncio.sleep(0.05)
        # then: a snoop channel (spy only) and the manager's phone share a bridge of their own
        assert bridges
        state = await sim.state()
        snoops = [c for c in state["channels"] if c["id"].startswith("snoop-") and not c["id"].endswith("-phone")]
        assert snoops and all(c["id"] in bridges[0]["channels"] for c in snoops)


async def test_stop_drains_live_calls_before_closing(running, sim, world):
    # given: a call that ends by itself 3 simulated seconds after answer
    await sim.script("13800138000", answer_after=0.5, hangup_after=3)
    run = running()
    async with run:
        call_uuid = await dial(world)
        await until(lambda: run.handlers.live_calls() and run.handlers.live_calls()[0].session.connected_at, 10)
        # when
        run.dialer.stop()
        await returns(run.task, 10)
        # then: the call finished normally and was written before run() returned
        record = await sync_to_async(_record)(call_uuid)
        assert record is not None and record.hangup_cause == "通话结束"
        assert not (await sync_to_async(cache.get)(HEALTH_KEY))["ari_connected"]
        run.dialer.stop = lambda: None


async def test_stop_returns_when_a_background_task_swallows_its_cancellation(running, world, monkeypatch):
    # given: the lines-board notification is in flight when stop() comes, and swallows the cancellation
    # (asgiref's sync_to_async does when the work it waits on finishes anyway); the writer then waits for
    # the next change, which never comes
    in_flight = asyncio.Event()
    swallowed = []

    async def swallowing(**_):
        in_flight.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            swallowed.append(True)

    run = running()
    async with run:
        monkeypatch.setattr(run.handlers.domain, "lines_changed", swallowing)
        run.handlers.changed()
        await asyncio.wait_for(in_flight.wait(), 5)
        # when
        run.dialer.stop()
        # then
        await returns(run.task, 10)
        assert swallowed == [True]
        assert not (await sync_to_async(cache.get)(HEALTH_KEY))["ari_connected"]


async def test_failed_recording_download_is_retried_by_the_scheduler_until_stored(running, sim, world, monkeypatch):
    # given: storing the recording fails once (a full disk, a database hiccup)
    from cases.actions.dialer import recordings_retry_request
    from dialer import domain

    real_store = domain.recording_store
    failures = []

    async def flaky_store(name, data):
        if not failures:
            failures.append(name)
            raise OSError("No space left on device")
        return await real_store(name, data)

    await sim.script("13800138000", answer_after=0.5, hangup_after=1)
    async with running() as run:
        monkeypatch.setattr(run.handlers.domain, "recording_store", flaky_store)
        call_uuid = await dial(world)
        pending = await until_db(lambda: PendingRecording.objects.filter(attempts=1).first(), 15)
        assert (await sim.state())["stored_recordings"]  # still on Asterisk
        # when: the scheduler's round asks the dialer again
        assert await sync_to_async(recordings_retry_request)(older_than_s=0) == 1
        record = await until_db(lambda: (r := _record(call_uuid)) is not None and r.recording_id and r, 10)
    # then
    assert pending.last_error.startswith("OSError")
    assert record.recording.sha256 and not await sync_to_async(PendingRecording.objects.exists)()
    assert (await sim.state())["stored_recordings"] == []


# ---- defects found on a real Asterisk (issue 14) ----------------------------------------------------------

async def test_recording_without_recording_finished_is_found_and_stored(running, sim, world):
    """D3: real Asterisk sometimes sends no RecordingFinished when the bridge goes; the stored file is looked for."""
    # given
    await sim.quirks(drop_recording_finished=1)
    await sim.script("13800138000", answer_after=0.5, hangup_after=1)
    async with running():
        # when
        call_uuid = await dial(world)
        record = await until_db(lambda: (r := _record(call_uuid)) is not None and r.recording_id and r, 15)
    # then
    assert record.recording.sha256
    assert not await sync_to_async(PendingRecording.objects.exists)()
    assert (await sim.state())["stored_recordings"] == []


async def test_failed_recording_start_keeps_the_call_up_and_says_it_is_unrecorded(running, sim, world, published,
                                                                                monkeypatch):
    """D4: the customer who answered is not hung up; no recording is looked for afterwards."""
    from dialer.ari import AriError

    await sim.script("13800138000", answer_after=0.5, hangup_after=2)
    async with running() as run:
        async def refuse(*args, **kwargs):
            raise AriError(500, "Failed to create recording channel", "bridges.record")
        monkeypatch.setattr(run.dialer.client, "record_bridge", refuse)
        # when
        call_uuid = await dial(world)
        record = await until_db(lambda: _record(call_uuid), 15)
    # then: the customer hung up after talking 2 s, as they chose to
    assert record.hangup_cause == "通话结束（录音失败）"
    assert record.answered_at is not None and 1 <= record.duration_s <= 3
    assert record.recording_id is None and not await sync_to_async(PendingRecording.objects.exists)()
    connected = [m for m in published.messages_to(groups.user(world.collector.pk)) if m.get("status") == "connected"]
    assert "录音未能启动" in connected[-1]["message"]


async def test_collector_missing_an_inbound_call_stops_ringing(running, sim, world, published):
    """D6: the debtor's collector does not pick up; the call goes to the fallback; their panel is told."""
    await sim.phone("8001", behaviour="no_answer")
    async with running(collector_ring_s=3):
        # when
        injected = await sim.inbound("13800138000", "80001234")
        await until(lambda: "connected" in statuses(published, world.other), 15)
        await sim.far_hangup(injected["channel_id"])
        await until_db(lambda: _record(injected["channel_id"]), 10)
    # then
    assert statuses(published, world.collector) == ["ringing", "ended"]
    assert "未接" in last_message(published, world.collector)["message"]


async def test_a_dialer_killed_mid_call_is_replaced_by_one_that_adopts_the_call(running, sim, world, published):
    """D2: the new process neither hangs the live call up nor loses its record or recording."""
    # given: a call talking on the first dialer
    await sim.script("13800138000", answer_after=0.5)
    first = running()
    await first.__aenter__()
    call_uuid = await dial(world)
    await until(lambda: "connected" in statuses(published, world.collector), 10)
    await asyncio.sleep(0.5)
    # when: the first one dies without draining (its task cancelled: no hang-ups) and another starts
    first.task.cancel()
    await asyncio.wait({first.task}, timeout=10)
    async with running() as second:
        await until(lambda: second.handlers.live_calls(), 10)
        state = await sim.state()
        assert {c["id"] for c in state["channels"]} >= {f"{call_uuid}-coll", f"{call_uuid}-cust"}
        # the customer hangs up
        await sim.far_hangup(f"{call_uuid}-cust")
        record = await until_db(lambda: (r := _record(call_uuid)) is not None and r.recording_id and r, 15)
    # then: one record, the whole call, on its case, with the recording; nothing left on "Asterisk"
    assert (record.case_id, record.collector_id, record.hangup_cause) == (world.case.pk, world.collector.pk, "通话结束")
    assert record.answered_at is not None and record.duration_s >= 1
    state = await sim.state()
    assert state["stored_recordings"] == [] and state["bridges"] == [] and state["channels"] == []
