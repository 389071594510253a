"""AriClient + CallSession together on the simulator's real event streams: whole calls, as the Dialer will run them.

`Flow` is the smallest orchestrator that follows dialer/README.md ("Wiring the Dialer"); it has no domain
calls, so it checks that the session's transitions and hangup lists are right for real event orders.
"""

from __future__ import annotations

import asyncio
import io
import wave

from dialer.ari import AriClient, event_channels
from dialer.session import CallSession, EndCause, Phase, Transition
from tests.dialer.conftest import ARI_PASSWORD, ARI_USER


class Flow:
    def __init__(self, simulator) -> None:
        self.sessions: dict[str, CallSession] = {}
        self.transitions: list[tuple[str, Transition]] = []
        self.finished: dict[str, dict] = {}
        self.ended = asyncio.Event()
        self.free_collectors: list[str] = []
        self.client = AriClient(
            url=simulator.url,
            user=ARI_USER,
            password=ARI_PASSWORD,
            app="collect",
            on_event=self.on_event,
            backoff_initial_s=0.05,
        )

    async def __aenter__(self) -> Flow:
        await self.client.connect()
        await self.client.subscribe("endpoint:PJSIP/8001", "endpoint:PJSIP/8002")  # overlapping on purpose
        self.runner = asyncio.create_task(self.client.run_events())
        await asyncio.wait_for(self.client.connected.wait(), 5)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.client.close()
        await self.runner

    def session_for(self, event: dict) -> CallSession | None:
        for channel in event_channels(event).values():
            for session in self.sessions.values():
                if session.owns(channel["id"]):
                    return session
        return None

    async def on_event(self, event: dict) -> None:
        if event["type"] == "RecordingFinished":
            self.finished[event["recording"]["name"]] = event
            return
        if event["type"] == "StasisStart" and event["args"][:1] == ["inbound"]:
            caller = event["channel"]
            session = CallSession.inbound(
                call_uuid=caller["id"],
                customer_channel_id=caller["id"],
                number=caller["caller"]["number"],
                exten=event["args"][1],
            )
            self.sessions[session.call_uuid] = session
            await self.client.ring(caller["id"])
            await self.client.create_bridge(f"br-{session.call_uuid}")
            await self.route(session)
            return
        session = self.session_for(event)
        if session is None:
            return
        transition = session.apply(event)  # before any await: transitions in arrival order
        if transition is None:
            return
        self.transitions.append((session.call_uuid, transition))
        await self.act(session, transition)

    async def route(self, session: CallSession) -> None:
        if not self.free_collectors:
            transition = session.fail(EndCause.FAILED)
            self.transitions.append((session.call_uuid, transition))
            await self.act(session, transition)
            return
        ext = self.free_collectors.pop(0)
        leg = f"{session.call_uuid}-coll-{ext}"
        self.transitions.append(
            (session.call_uuid, session.route_to_collector(collector_channel_id=leg, collector_ext=ext))
        )
        await self.client.create_and_dial(endpoint=f"PJSIP/{ext}", channel_id=leg, timeout_s=10)

    async def act(self, session: CallSession, transition: Transition) -> None:
        bridge = f"br-{session.call_uuid}"
        if transition.phase == Phase.COLLECTOR_ANSWERED:
            await self.client.create_bridge(bridge)
            await self.client.add_to_bridge(bridge, session.collector_channel_id)
            customer = f"{session.call_uuid}-cust"
            session.customer_dialling(customer_channel_id=customer)
            await self.client.create_and_dial(
                endpoint=f"PJSIP/{session.number}@trunk", channel_id=customer, timeout_s=20
            )
        elif transition.phase == Phase.CONNECTED:
            if session.direction == "inbound":
                await self.client.answer(session.customer_channel_id)
                await self.client.add_to_bridge(bridge, session.customer_channel_id)
            await self.client.add_to_bridge(
                bridge, session.collector_channel_id if session.direction == "inbound" else session.customer_channel_id
            )
            await self.client.record_bridge(bridge, f"call-{session.call_uuid}")
        elif transition.phase == Phase.INBOUND_RINGING:
            await self.route(session)
        elif transition.phase == Phase.ENDED:
            for channel_id in transition.hangup:
                await self.client.hangup_quietly(channel_id)
            await self.client.destroy_bridge_quietly(bridge)
            self.ended.set()

    async def outbound(self, *, uuid: str, ext: str, number: str) -> CallSession:
        session = CallSession.outbound(
            call_uuid=uuid, collector_channel_id=f"{uuid}-coll", collector_ext=ext, number=number
        )
        self.sessions[uuid] = session
        await self.client.originate(endpoint=f"PJSIP/{ext}", channel_id=f"{uuid}-coll", app_args=["collector", uuid])
        return session

    def phases(self, uuid: str) -> list[str]:
        return [t.phase.value for u, t in self.transitions if u == uuid]


async def test_outbound_call_answered_talked_recorded_and_fetched(simulator, sim):
    # given: the customer talks 3 s, then hangs up
    await sim.script("13800138000", answer_after=1, hangup_after=3)
    async with Flow(simulator) as flow:
        # when
        session = await flow.outbound(uuid="c1", ext="8001", number="13800138000")
        await asyncio.wait_for(flow.ended.wait(), 5)
        for _ in range(100):
            if "call-c1" in flow.finished:
                break
            await asyncio.sleep(0.02)
        audio = await flow.client.fetch_stored_recording("call-c1")
        # then
        assert flow.phases("c1") == ["collector_answered", "customer_ringing", "connected", "ended"]
        assert (session.cause, session.hangup_by, session.answered) == (EndCause.COMPLETED, "customer", True)
        assert 2 <= session.talk_seconds <= 4
        with wave.open(io.BytesIO(audio)) as wav:
            assert wav.getframerate() == 8000
        await asyncio.sleep(0.1)
        assert (await sim.state())["channels"] == []


async def test_outbound_busy_customer_ends_busy_and_releases_the_collector(simulator, sim):
    # given
    await sim.script("13900139000", behaviour="busy")
    async with Flow(simulator) as flow:
        # when
        session = await flow.outbound(uuid="c2", ext="8002", number="13900139000")
        await asyncio.wait_for(flow.ended.wait(), 5)
        await asyncio.sleep(0.1)
        # then
        assert flow.phases("c2") == ["collector_answered", "ended"]
        assert session.cause == EndCause.BUSY
        assert not session.answered
        assert (await sim.state())["channels"] == []


async def test_outbound_collector_phone_not_answering(simulator, sim):
    # given
    await sim.phone("8001", behaviour="no_answer")
    async with Flow(simulator) as flow:
        # when
        session = CallSession.outbound(
            call_uuid="c3", collector_channel_id="c3-coll", collector_ext="8001", number="13800138000"
        )
        flow.sessions["c3"] = session
        await flow.client.originate(endpoint="PJSIP/8001", channel_id="c3-coll", timeout_s=5)
        await asyncio.wait_for(flow.ended.wait(), 5)
        # then
        assert session.cause == EndCause.COLLECTOR_NO_ANSWER


async def test_inbound_call_missed_by_first_collector_goes_to_the_next(simulator, sim):
    # given: 8001 does not pick up, 8002 does
    await sim.phone("8001", behaviour="no_answer")
    async with Flow(simulator) as flow:
        flow.free_collectors = ["8001", "8002"]
        # when
        injected = await sim.inbound("13912345678", "80001234")
        for _ in range(200):
            session = flow.sessions.get(injected["channel_id"])
            if session is not None and session.phase == Phase.CONNECTED:
                break
            await asyncio.sleep(0.02)
        await sim.far_hangup(injected["channel_id"])
        await asyncio.wait_for(flow.ended.wait(), 5)
        # then
        assert flow.phases(injected["channel_id"]) == ["routed", "inbound_ringing", "routed", "connected", "ended"]
        assert session.missed_collectors == ["8001"]
        assert (session.collector_ext, session.cause, session.hangup_by) == ("8002", EndCause.COMPLETED, "customer")


async def test_inbound_caller_abandoning_before_anyone_answers(simulator, sim):
    # given
    await sim.phone("8001", behaviour="no_answer")
    async with Flow(simulator) as flow:
        flow.free_collectors = ["8001"]
        # when
        injected = await sim.inbound("13912345678", "80001234", hangup_after=3)
        await asyncio.wait_for(flow.ended.wait(), 5)
        await asyncio.sleep(0.1)
        # then
        session = flow.sessions[injected["channel_id"]]
        assert session.cause == EndCause.ABANDONED
        assert (await sim.state())["channels"] == []
