"""ARI event → CallSession transition → domain call (STYLE P7). One `Handlers` per running Dialer.

Each ARI event arrives in its own task (dialer/ari.py). The session is found and `session.apply(event)`
runs BEFORE the first await, so transitions are applied in arrival order; the I/O that follows (bridge,
dial, record, hang up, write the call record) may interleave freely. Commands from the web (originate,
hang up, listen in, fetch recordings again) arrive from the channel layer through `on_command`.
Imports `cases` only through dialer/domain.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone

from dialer import compliance, pacing
from dialer import domain as default_domain
from dialer.ari import AppSnapshot, AriClient, AriError, AriNotConnectedError, event_channels, repair_wav_header
from dialer.config import DialerConfig
from dialer.session import END_CAUSE_LABELS, CallSession, Direction, EndCause, Phase, Transition

logger = logging.getLogger(__name__)

# The channel variable on a call's collector leg that holds what a restarted dialer needs to adopt it (D2).
CALL_VARIABLE = "CM_CALL"
# How long after a call's end its RecordingFinished may take before the stored file is looked for (D3).
RECORDING_FINISH_WAIT_S = 3.0

JSON = dict[str, Any]

# Refusals that say nothing about the number (the phone, the lines, the connection, the caller-ID pool): a
# progressive session tries the same number again later instead of passing it over.
NOT_GUARD_RULES = {"not_connected", "phone_offline", "lines_busy", "no_extension", "collector_busy",
                   "caller_id_full"}

# The Chinese lines a collector reads for the panel's states.
_STATUS_TEXT = {
    Phase.COLLECTOR_RINGING: ("ringing", "正在呼叫您的话机，请摘机"),
    Phase.CUSTOMER_DIALLING: ("dialling", "正在呼叫对方…"),
    Phase.CUSTOMER_RINGING: ("dialling", "对方振铃中…"),
    Phase.CONNECTED: ("connected", "通话中"),
}


@dataclass
class Call:
    """A live call: the pure session plus what the domain needs to know about it."""

    session: CallSession
    collector_id: int | None
    case_id: int | None
    contact_id: int | None = None
    recording: str = ""
    preferred: str = ""  # inbound: the extension of the caller's case collector
    written: asyncio.Event = field(default_factory=asyncio.Event)
    since: float = field(default_factory=time.time)
    connected_local: float | None = None  # our clock (Asterisk's may differ): the lines board's duration
    unrecorded: bool = False  # the recording could not be started (the record says so)
    # Our number on the call (issue 17): outbound, the pool number shown as caller ID on the trunk leg (its attempt
    # counted when taken, given back if the customer is never dialled); inbound, the pool number the customer dialled.
    caller_id: str = ""
    session_id: int | None = None  # the progressive dialling session that placed it (连续外呼)

    @property
    def uuid(self) -> str:
        return self.session.call_uuid

    @property
    def bridge_id(self) -> str:
        return f"br-{self.session.call_uuid}"


@dataclass
class Listen:
    """A supervisor listening in: snoop channel (spy only) bridged to the supervisor's phone."""

    snoop_id: str
    call_uuid: str
    extension: str
    phone_id: str
    bridge_id: str
    phone_up: bool = False


def _event_time(transition: Transition) -> float:
    """When Asterisk stamped the event behind a transition (epoch seconds): the panel latency is measured
    from here (bench/dialer.py); our own transitions (failures, resync) carry our clock."""
    return transition.at.timestamp() if transition.at is not None else time.time()


class Handlers:
    def __init__(self, config: DialerConfig, client: AriClient, domain: Any = default_domain,
                 clock: Callable[[], datetime] = timezone.now) -> None:
        self.config = config
        self.client = client
        self.domain = domain
        self.clock = clock
        self.calls: dict[str, Call] = {}
        self.by_channel: dict[str, str] = {}
        self.by_recording: dict[str, Call] = {}
        self.listens: dict[str, Listen] = {}
        self.extensions: dict[str, int] = {}  # ext → collector id
        self.startup_time: str | None = None
        self.last_event_at: float | None = None
        self.handled = 0
        self.changed: Callable[[], None] = lambda: None  # the Dialer refreshes the lines board
        self._tasks: set[asyncio.Task[Any]] = set()
        # Progressive attempts being placed (call uuid) and why one was refused: (rule, message).
        self._progressive: set[str] = set()
        self._refused: dict[str, tuple[str, str]] = {}

    # ---- queries ---------------------------------------------------------------------------------------

    def live_calls(self) -> list[Call]:
        return [c for c in self.calls.values() if not c.session.ended]

    def lines_in_use(self) -> int:
        """Calls holding (or about to hold) a trunk line: every live call reserves one from originate on."""
        return len(self.live_calls())

    def busy_extensions(self) -> set[str]:
        return {c.session.collector_ext for c in self.live_calls() if c.session.collector_ext}

    def lines_snapshot(self) -> list[JSON]:
        rows = []
        for call in self.live_calls():
            s = call.session
            rows.append({
                "call_uuid": s.call_uuid, "phase": s.phase.value, "direction": s.direction.value,
                "extension": s.collector_ext, "collector_id": call.collector_id, "case_id": call.case_id,
                "number": s.number, "since": call.since,
                "connected_at": call.connected_local, "session_id": call.session_id,
            })
        return rows

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("dialer task failed", exc_info=task.exception())

    async def idle(self) -> None:
        """Wait for background work (tests and drain)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _register(self, call: Call) -> None:
        self.calls[call.uuid] = call
        for channel_id in call.session.channel_ids():
            self.by_channel[channel_id] = call.uuid

    def _find(self, event: JSON) -> Call | None:
        for channel in event_channels(event).values():
            call_uuid = self.by_channel.get(channel.get("id", ""))
            if call_uuid is not None and call_uuid in self.calls:
                return self.calls[call_uuid]
        return None

    # ---- domain notifications --------------------------------------------------------------------------

    async def _notify(self, call: Call, status: str, message: str, *, cause: str = "", popup: bool = False,
                      sent_at: float | None = None) -> None:
        if call.collector_id is None:
            return
        s = call.session
        try:
            await self.domain.notify(
                collector_id=call.collector_id, case_id=call.case_id, call_uuid=s.call_uuid, status=status,
                direction=s.direction.value, number=s.number, cause=cause, message=message,
                connected_at=s.connected_at, duration_s=s.talk_seconds, popup=popup, sent_at=sent_at)
        except Exception:  # process edge: the panel update is best effort; the call and its record go on
            logger.exception("panel update failed call_id=%s status=%s", s.call_uuid, status)

    async def _refuse(self, *, call_uuid: str, collector_id: int, case_id: int | None, number: str, rule: str,
                      message: str) -> None:
        logger.info("call refused rule=%s call_id=%s collector=%s", rule, call_uuid, collector_id)
        if call_uuid in self._progressive:
            self._refused[call_uuid] = (rule, message)
        await self.domain.refusal_log(collector_id=collector_id, case_id=case_id, number=number, rule=rule,
                                      message=message, call_uuid=call_uuid)

    # ---- commands from the web -------------------------------------------------------------------------

    async def on_command(self, message: JSON) -> None:
        kind = message.get("type")
        if kind == "originate":
            await self.originate(call_uuid=str(message["call_uuid"]), collector_id=int(message["collector_id"]),
                                 extension=str(message["ext"]), case_id=message.get("case_id"),
                                 contact_id=message.get("contact_id"), number=str(message["number"]))
        elif kind == "hangup":
            await self.hangup(call_uuid=str(message["call_uuid"]), user_id=int(message["user_id"]))
        elif kind == "listen":
            await self.listen_in(call_uuid=str(message["call_uuid"]), extension=str(message["ext"]))
        elif kind == "recordings.retry":
            await self.retry_recordings()
        else:
            logger.warning("unknown dialer command %r", kind)

    async def originate(self, *, call_uuid: str, collector_id: int, extension: str, case_id: int | None,
                        contact_id: int | None, number: str, session_target: Any = None) -> Call | None:
        """Check every rule, then ring the collector's phone (the customer is dialled once they answer).

        `session_target` (progressive.actions.DialTarget): a progressive session's attempt, told to the session
        once every rule has passed and before the phone rings."""
        refuse = {"call_uuid": call_uuid, "collector_id": collector_id, "case_id": case_id, "number": number}
        if call_uuid in self.calls:
            return self.calls[call_uuid]  # a repeated command
        if not self.client.connected.is_set():
            await self._refuse(**refuse, rule="not_connected", message=str(AriNotConnectedError()))
            return None
        facts = await self.domain.compliance_facts(case_id, number, self.clock(), contact_id)
        refusal = compliance.check(facts, local_now=timezone.localtime(self.clock()))
        if refusal is not None:
            await self._refuse(**refuse, rule=refusal.rule, message=refusal.message)
            return None
        if extension in self.busy_extensions():
            await self._refuse(**refuse, rule="collector_busy", message="您的话机正在通话中，请先结束当前通话")
            return None
        if self.lines_in_use() >= self.config.lines:
            await self._refuse(**refuse, rule="lines_busy",
                               message=f"外线全忙（{self.config.lines} 条线路都在通话），请稍后再拨")
            return None
        # Reserve the line before the first await below, so two simultaneous requests cannot both take it.
        session = CallSession.outbound(call_uuid=call_uuid, collector_channel_id=f"{call_uuid}-coll",
                                       collector_ext=extension, number=number, started_at=self.clock())
        call = Call(session=session, collector_id=collector_id, case_id=case_id, contact_id=contact_id)
        self._register(call)
        self.changed()
        try:
            endpoint = await self.client.get_endpoint(extension)
        except AriError:
            endpoint = None
        if endpoint is None or endpoint.get("state") != "online":
            self._forget(call)
            await self._refuse(**refuse, rule="phone_offline",
                               message=f"您的话机（分机 {extension}）不在线，请检查话机是否开机、已注册")
            return None
        # The caller ID last, once nothing else can refuse: taking it counts an attempt on the number.
        pick = await self.domain.caller_id_take(case_id, self.config.trunk)
        if pick.refusal:
            self._forget(call)
            await self._refuse(**refuse, rule="caller_id_full", message=pick.refusal)
            return None
        call.caller_id = pick.number
        if session_target is not None:
            call.session_id = session_target.session_id
            try:
                await self.domain.session_call_placed(target=session_target, call_uuid=call_uuid)
            except Exception:  # process edge: the call goes on; the session is reconciled when it ends
                logger.exception("session step failed call_id=%s session=%s", call_uuid, call.session_id)
        await self._notify(call, "ringing", _STATUS_TEXT[Phase.COLLECTOR_RINGING][1])
        try:
            await self.client.originate(endpoint=self.config.collector_endpoint(extension),
                                        channel_id=session.collector_channel_id or "",
                                        timeout_s=self.config.collector_ring_s,
                                        app_args=["collector", call_uuid], caller_id=f'"外呼" <{number}>')
        except AriNotConnectedError as exc:
            self._forget(call)
            await self._release_caller_id(call)
            await self._refuse(**refuse, rule="not_connected", message=str(exc))
            return None
        except AriError as exc:
            logger.warning("originate failed call_id=%s channel_id=%s: %s", call_uuid, session.collector_channel_id,
                           exc)
            transition = session.fail(EndCause.COLLECTOR_UNAVAILABLE, self.clock())
            if transition is not None:
                await self.act(call, transition)
            return call
        return call

    async def _release_caller_id(self, call: Call) -> None:
        """Give back the attempt taken on the call's pool number: the customer was never dialled with it."""
        number, call.caller_id = call.caller_id, ""
        if not number:
            return
        try:
            await self.domain.caller_id_release(number)
        except Exception:  # process edge: the count is one too high for today at worst; the call goes on
            logger.exception("caller id release failed call_id=%s", call.uuid)

    def _forget(self, call: Call) -> None:
        self.calls.pop(call.uuid, None)
        for channel_id in call.session.channel_ids():
            self.by_channel.pop(channel_id, None)
        self.changed()

    async def hangup(self, *, call_uuid: str, user_id: int) -> None:
        call = self.calls.get(call_uuid)
        if call is None or call.session.ended or call.collector_id != user_id:
            return
        call.session.cancel()
        for channel_id in call.session.channel_ids():
            await self.client.hangup_quietly(channel_id)

    # ---- events ----------------------------------------------------------------------------------------

    async def on_event(self, event: JSON) -> None:
        self.last_event_at = time.time()
        self.handled += 1
        kind = event.get("type")
        if kind == "RecordingFinished":
            await self.recording_finished(str(event["recording"]["name"]))
            return
        if kind == "StasisStart":
            args = event.get("args") or []
            if args[:1] == ["inbound"] and event["channel"]["id"] not in self.by_channel:
                await self.inbound(event)
                return
            if args[:1] == ["listen"]:
                await self._listen_started(event)
                return
        if await self._listen_event(event):
            return
        call = self._find(event)
        if call is None:
            return
        transition = call.session.apply(event)  # before any await: transitions in arrival order
        if transition is None:
            return
        await self.act(call, transition)

    async def act(self, call: Call, transition: Transition) -> None:
        s = call.session
        self.changed()
        logger.info("call %s → %s call_id=%s channel_id=%s", transition.previous, transition.phase, s.call_uuid,
                    ",".join(s.channel_ids()))
        try:
            if transition.phase == Phase.COLLECTOR_ANSWERED:
                await self._collector_answered(call)
            elif transition.phase == Phase.CUSTOMER_RINGING:
                await self._notify(call, *_STATUS_TEXT[Phase.CUSTOMER_RINGING], sent_at=_event_time(transition))
            elif transition.phase == Phase.CONNECTED:
                await self._connected(call, _event_time(transition))
            elif transition.phase == Phase.INBOUND_RINGING:
                if transition.previous == Phase.ROUTED:
                    # The collector who did not pick up: their panel stops ringing (D6).
                    await self._notify(call, "ended", "未接来电（已转给其他业务员或结束）", cause="missed",
                                       sent_at=_event_time(transition))
                await self.route(call)
            elif transition.phase == Phase.ROUTED:
                pass
        except AriError as exc:
            logger.warning("ARI request failed call_id=%s: %s", s.call_uuid, exc)
            failed = s.fail(EndCause.FAILED, self.clock())
            if failed is not None:
                transition = failed
        if transition.phase == Phase.ENDED:
            await self._ended(call, transition)

    async def _remember(self, call: Call) -> None:
        """Write what the call is onto its collector channel (CALL_VARIABLE), so a dialer restarted after a crash
        can adopt it from Asterisk's own channel list (D2). Best effort: the call goes on without it."""
        s = call.session
        facts = {"u": s.call_uuid, "d": s.direction.value, "c": call.collector_id, "k": call.case_id,
                 "t": call.contact_id, "n": s.number, "x": s.collector_ext, "p": call.session_id,
                 "s": s.started_at.isoformat() if s.started_at else None,
                 "a": s.connected_at.isoformat() if s.connected_at else None, "r": call.recording,
                 "i": call.caller_id}
        try:
            await self.client.set_variable(s.collector_channel_id or "", CALL_VARIABLE, json.dumps(facts))
        except AriError as exc:
            logger.warning("could not note the call on its channel call_id=%s: %s", s.call_uuid, exc)

    async def _collector_answered(self, call: Call) -> None:
        s = call.session
        await self.client.create_bridge(call.bridge_id)
        await self.client.add_to_bridge(call.bridge_id, s.collector_channel_id or "")
        await self._remember(call)
        customer = f"{s.call_uuid}-cust"
        s.customer_dialling(customer_channel_id=customer, at=self.clock())
        self.by_channel[customer] = s.call_uuid
        # A progressive call opens its case on the collector's screen as the customer is dialled.
        await self._notify(call, *_STATUS_TEXT[Phase.CUSTOMER_DIALLING], popup=call.session_id is not None)
        await self.client.create_and_dial(endpoint=self.config.customer_endpoint(s.number), channel_id=customer,
                                          timeout_s=self.config.customer_ring_s, caller_id=call.caller_id or None)

    async def _connected(self, call: Call, sent_at: float) -> None:
        s = call.session
        call.connected_local = time.time()
        if s.direction == Direction.INBOUND:
            await self.client.answer(s.customer_channel_id or "")
            await self.client.add_to_bridge(call.bridge_id, s.customer_channel_id or "")
            await self.client.add_to_bridge(call.bridge_id, s.collector_channel_id or "")
        else:
            await self.client.add_to_bridge(call.bridge_id, s.customer_channel_id or "")
        await self._notify(call, "connected", "通话中", sent_at=sent_at)
        name = f"call-{s.call_uuid}"
        call.recording = name
        self.by_recording[name] = call
        try:
            await self.client.record_bridge(call.bridge_id, name=name)
        except AriError as exc:
            # The customer has answered: keep talking, unrecorded, and never look for a file that was not made (D4).
            logger.error("recording start failed call_id=%s: %s", s.call_uuid, exc)
            self.by_recording.pop(name, None)
            call.recording = ""
            call.unrecorded = True
            await self._notify(call, "connected", "通话中（录音未能启动，本次通话没有录音）", sent_at=sent_at)
        await self._remember(call)

    async def _ended(self, call: Call, transition: Transition) -> None:
        s = call.session
        cause = s.cause or EndCause.FAILED
        label = END_CAUSE_LABELS[cause] + ("（录音失败）" if call.unrecorded else "")
        ended_at = s.ended_at or self.clock()
        if s.direction == Direction.OUTBOUND and not s.customer_channel_id:
            await self._release_caller_id(call)
        # The panel first (the collector is waiting), then the clean-up, then the record (retried until it lands).
        await self._notify(call, "ended", label, cause=cause.value, sent_at=_event_time(transition))
        for channel_id in transition.hangup:
            try:
                await self.client.hangup_quietly(channel_id)
            except AriError as exc:
                logger.warning("hangup failed call_id=%s channel_id=%s: %s", s.call_uuid, channel_id, exc)
        try:
            await self.client.destroy_bridge_quietly(call.bridge_id)
        except AriError as exc:
            logger.warning("bridge destroy failed call_id=%s: %s", s.call_uuid, exc)
        await self._write(call, cause=cause, label=label, ended_at=ended_at)
        self._forget(call)
        if call.session_id is not None:
            try:  # after the record: a connected call's outcome is what the session's next call waits for
                await self.domain.session_call_ended(session_id=call.session_id, call_uuid=s.call_uuid,
                                                     answered=s.answered, cause=cause.value)
            except Exception:  # process edge: reconciled on the next connect
                logger.exception("session step failed call_id=%s session=%s", s.call_uuid, call.session_id)
        if call.recording and call.recording in self.by_recording:
            self._spawn(self._recording_watchdog(call.recording))

    async def _recording_watchdog(self, name: str) -> None:
        """Real Asterisk sometimes sends no RecordingFinished when a bridge is destroyed (D3): once the bridge is
        gone, look for the stored file ourselves."""
        deadline = time.monotonic() + RECORDING_FINISH_WAIT_S
        while name in self.by_recording and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        if self.by_recording.pop(name, None) is None:
            return  # RecordingFinished came and took it
        logger.warning("no RecordingFinished for %s: fetching the stored file", name)
        await self.fetch_recording(name)

    async def _write(self, call: Call, *, cause: EndCause, label: str, ended_at: datetime) -> None:
        """Write the call record; retried until it lands, because no call record may be lost."""
        s = call.session
        delay = 0.2
        for attempt in range(8):
            try:
                await self.domain.call_write(
                    call_uuid=s.call_uuid, collector_id=call.collector_id, case_id=call.case_id,
                    contact_id=call.contact_id, number=s.number, direction=s.direction.value,
                    started_at=s.started_at or ended_at, answered_at=s.connected_at, ended_at=ended_at,
                    cause=cause.value, cause_label=label, recording_name=call.recording, caller_id=call.caller_id)
                break
            except Exception:  # process edge: the database may be briefly away; the write is idempotent
                logger.exception("call record write failed call_id=%s attempt=%d", s.call_uuid, attempt + 1)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)
        call.written.set()

    # ---- inbound ---------------------------------------------------------------------------------------

    async def inbound(self, event: JSON) -> None:
        channel = event["channel"]
        args = event.get("args") or []
        at = self.clock()
        session = CallSession.inbound(call_uuid=channel["id"], customer_channel_id=channel["id"],
                                      number=str((channel.get("caller") or {}).get("number", "")),
                                      exten=str(args[1]) if len(args) > 1 else "", started_at=at)
        call = Call(session=session, collector_id=None, case_id=None)
        self._register(call)  # before any await: the caller hanging up at once must find the call
        self.changed()
        # A customer calling one of our pool numbers back (issue 17): the record names the number they dialled.
        call.caller_id = await self.domain.caller_id_known(session.exten) if session.exten else ""
        match = await self.domain.case_for_caller(session.number)
        if match is not None:
            call.case_id = match.case_id
            call.contact_id = match.contact_id
            call.preferred = match.extension
        try:
            await self.client.ring(channel["id"])
            await self.client.create_bridge(call.bridge_id)
        except AriError as exc:
            logger.warning("inbound setup failed call_id=%s: %s", session.call_uuid, exc)
        if not session.ended:
            await self.route(call)

    async def _free_extension(self, call: Call) -> str | None:
        s = call.session
        busy = self.busy_extensions() - {s.collector_ext}
        preferred = call.preferred
        candidates = ([preferred] if preferred else []) + list(self.config_fallback())
        for ext in dict.fromkeys(candidates):
            if not ext or ext in busy or ext in s.missed_collectors:
                continue
            try:
                endpoint = await self.client.get_endpoint(ext)
            except AriError:
                endpoint = None
            if endpoint is not None and endpoint.get("state") == "online":
                return ext
        return None

    def config_fallback(self) -> tuple[str, ...]:
        return self.config.fallback_extensions

    async def route(self, call: Call) -> None:
        s = call.session
        ext = await self._free_extension(call)
        if s.ended:
            return
        if ext is None:
            # Nobody free (or no fallback group): a missed call the 未接来电 list shows, not a failure.
            transition = s.fail(EndCause.MISSED, self.clock())
            if transition is not None:
                await self._ended(call, transition)
            return
        leg = f"{s.call_uuid}-c{len(s.missed_collectors)}"
        if s.route_to_collector(collector_channel_id=leg, collector_ext=ext, at=self.clock()) is None:
            return
        self.by_channel[leg] = s.call_uuid
        if not self.extensions:
            self.extensions = await self.domain.collector_extensions()
        call.collector_id = self.extensions.get(ext)
        if call.collector_id is None:
            self.extensions = await self.domain.collector_extensions()
            call.collector_id = self.extensions.get(ext)
        await self._notify(call, "ringing", "来电，请摘机接听", popup=call.case_id is not None)
        await self.client.create_and_dial(endpoint=self.config.collector_endpoint(ext), channel_id=leg,
                                          timeout_s=self.config.collector_ring_s)

    # ---- listen-in -------------------------------------------------------------------------------------

    async def listen_in(self, *, call_uuid: str, extension: str) -> None:
        call = self.calls.get(call_uuid)
        if call is None or call.session.phase != Phase.CONNECTED or not call.session.collector_channel_id:
            logger.info("listen-in refused: call %s not live", call_uuid)
            return
        snoop_id = f"snoop-{uuid.uuid4().hex[:12]}"
        self.listens[snoop_id] = Listen(snoop_id=snoop_id, call_uuid=call_uuid, extension=extension,
                                        phone_id=f"{snoop_id}-phone", bridge_id=f"lb-{snoop_id}")
        await self.client.snoop(channel_id=call.session.collector_channel_id, snoop_id=snoop_id, spy="both",
                                app_args=["listen", extension])

    async def _listen_started(self, event: JSON) -> None:
        listen = self.listens.get(event["channel"]["id"])
        if listen is None:
            return
        await self.client.create_bridge(listen.bridge_id)
        await self.client.add_to_bridge(listen.bridge_id, listen.snoop_id)
        await self.client.create_and_dial(endpoint=self.config.collector_endpoint(listen.extension),
                                          channel_id=listen.phone_id, timeout_s=self.config.collector_ring_s)

    async def _listen_event(self, event: JSON) -> bool:
        for channel in event_channels(event).values():
            cid = channel.get("id", "")
            for listen in list(self.listens.values()):
                if cid not in (listen.snoop_id, listen.phone_id):
                    continue
                kind = event.get("type")
                up = (kind == "Dial" and event.get("dialstatus") == "ANSWER") or (
                    kind == "ChannelStateChange" and channel.get("state") == "Up")
                if cid == listen.phone_id and up and not listen.phone_up:
                    listen.phone_up = True
                    await self.client.add_to_bridge(listen.bridge_id, listen.phone_id)
                elif kind in ("ChannelDestroyed", "StasisEnd") or (
                        kind == "Dial" and event.get("dialstatus") in ("BUSY", "NOANSWER", "CHANUNAVAIL")):
                    self.listens.pop(listen.snoop_id, None)
                    for other in (listen.snoop_id, listen.phone_id):
                        await self.client.hangup_quietly(other)
                    await self.client.destroy_bridge_quietly(listen.bridge_id)
                return True
        return False

    # ---- recordings ------------------------------------------------------------------------------------

    async def recording_finished(self, name: str) -> None:
        call = self.by_recording.pop(name, None)
        if call is not None:
            try:
                await asyncio.wait_for(call.written.wait(), timeout=60)
            except TimeoutError:
                logger.error("recording %s finished but its call record was not written", name)
                return
        await self.fetch_recording(name)

    async def fetch_recording(self, name: str) -> bool:
        """Fetch, store with SHA-256, and only then delete on Asterisk. A failure is retried later."""
        try:
            data = repair_wav_header(await self.client.fetch_stored_recording(name))
        except Exception as exc:  # process edge: HTTP error or Asterisk away; the scheduler asks again
            logger.warning("recording fetch failed name=%s: %r", name, exc)
            await self.domain.recording_fetch_failed(name=name, error=repr(exc))
            return False
        try:
            stored = await self.domain.recording_store(name, data)  # True: stored now or before
        except Exception as exc:  # process edge: keep it on Asterisk and retry
            logger.exception("recording store failed name=%s", name)
            await self.domain.recording_fetch_failed(name=name, error=repr(exc))
            return False
        if not stored:
            # No call waits for it and none holds it: never delete what we have not stored (D2).
            logger.warning("recording %s belongs to no call record yet: kept on Asterisk", name)
            return False
        await self.client.delete_stored_recording_quietly(name)
        return True

    async def retry_recordings(self) -> None:
        for name in await self.domain.pending_recording_names():
            call = self.by_recording.get(name)
            if call is not None and not call.session.ended:
                continue  # still being recorded
            self.by_recording.pop(name, None)
            await self.fetch_recording(name)

    # ---- reconnect -------------------------------------------------------------------------------------

    async def on_resync(self, snapshot: AppSnapshot) -> None:
        """After each (re)connect: close what vanished, catch up on answers, hang up strangers."""
        try:
            startup = await self.client.startup_time()
        except AriError:
            startup = None
        restarted = self.startup_time is not None and startup is not None and startup != self.startup_time
        self.startup_time = startup
        self.extensions = await self.domain.collector_extensions()
        for call in list(self.calls.values()):
            s = call.session
            if restarted:
                # The calls died with Asterisk, about when its websocket went down, not now (D7).
                transition = s.lost(self._lost_at())
            else:
                transition = s.resync({cid: snapshot.channels.get(cid) for cid in s.channel_ids()}, self.clock())
            if transition is None:
                continue
            if transition.phase == Phase.ENDED:
                if restarted:
                    transition = Transition(previous=transition.previous, phase=Phase.ENDED, at=transition.at,
                                            cause=transition.cause, hangup=())
                    self.by_recording.pop(call.recording, None)  # the live recording died with Asterisk
                await self._ended(call, transition)
            else:
                self._spawn(self._act_when_connected(call, transition))
        if not restarted:
            await self._adopt(snapshot)
        ours = set(self.by_channel) | {x for li in self.listens.values() for x in (li.snoop_id, li.phone_id)}
        for channel_id in snapshot.channel_ids:
            if channel_id not in ours:
                logger.warning("hanging up a channel nobody owns channel_id=%s call_id=-", channel_id)
                await self.client.hangup_quietly(channel_id)
        # Bridges of calls nobody has any more (a dialer killed mid-call, then the call ended): destroy them.
        known = {c.bridge_id for c in self.calls.values()} | {li.bridge_id for li in self.listens.values()}
        for bridge_id in snapshot.bridge_ids:
            bridge = snapshot.bridges.get(bridge_id) or {}
            if bridge_id not in known and not [c for c in bridge.get("channels", []) if c in ours]:
                logger.warning("destroying a bridge nobody owns bridge_id=%s", bridge_id)
                with contextlib.suppress(AriError):
                    await self.client.destroy_bridge_quietly(bridge_id)
        await self._reconcile_sessions()
        self._spawn(self._retry_when_connected())

    async def _adopt(self, snapshot: AppSnapshot) -> None:
        """Take over the live calls a previous dialer process left in the app (killed mid-call, D2): their facts
        are on their collector leg (CALL_VARIABLE). Their calls go on; their end is written as usual."""
        for channel_id in snapshot.channel_ids:
            if channel_id in self.by_channel or channel_id not in snapshot.channels:
                continue
            try:
                raw = await self.client.get_variable(channel_id, CALL_VARIABLE)
            except AriError:
                raw = None
            if not raw:
                continue
            try:
                facts = json.loads(raw)
                call = self._adopted_call(channel_id, facts, snapshot)
            except (ValueError, KeyError, TypeError) as exc:
                logger.warning("cannot adopt channel_id=%s: %r", channel_id, exc)
                continue
            if call.uuid in self.calls:
                continue
            self._register(call)
            if call.recording:
                self.by_recording[call.recording] = call
            logger.warning("adopted a live call call_id=%s channel_id=%s", call.uuid,
                           ",".join(call.session.channel_ids()))
            if call.session.phase == Phase.COLLECTOR_ANSWERED:  # the customer was never dialled: end it
                transition = call.session.fail(EndCause.FAILED, self.clock())
            else:
                transition = call.session.resync(
                    {c: snapshot.channels.get(c) for c in call.session.channel_ids()}, self.clock())
            if transition is not None and transition.phase == Phase.ENDED:
                await self._ended(call, transition)
        self.changed()

    def _adopted_call(self, channel_id: str, facts: dict[str, Any], snapshot: AppSnapshot) -> Call:
        call_uuid = str(facts["u"])
        started = datetime.fromisoformat(facts["s"]) if facts.get("s") else self.clock()
        connected = datetime.fromisoformat(facts["a"]) if facts.get("a") else None
        if facts.get("d") == Direction.INBOUND.value:
            session = CallSession.inbound(call_uuid=call_uuid, customer_channel_id=call_uuid, number=str(facts["n"]),
                                          exten="", started_at=started)
            session.collector_channel_id = channel_id
            session.collector_ext = str(facts.get("x") or "")
        else:
            session = CallSession.outbound(call_uuid=call_uuid, collector_channel_id=channel_id,
                                           collector_ext=str(facts.get("x") or ""), number=str(facts["n"]),
                                           started_at=started)
            customer = f"{call_uuid}-cust"
            if customer in snapshot.channels or connected is not None:
                session.customer_channel_id = customer
        if connected is not None:
            session.phase = Phase.CONNECTED
            session.connected_at = connected
        elif session.direction == Direction.OUTBOUND and session.customer_channel_id:
            session.phase = Phase.CUSTOMER_DIALLING
        elif session.direction == Direction.OUTBOUND:
            session.phase = Phase.COLLECTOR_ANSWERED
        else:
            session.phase = Phase.ROUTED
        call = Call(session=session, collector_id=facts.get("c"), case_id=facts.get("k"), contact_id=facts.get("t"),
                    recording=str(facts.get("r") or ""), caller_id=str(facts.get("i") or ""),
                    session_id=facts.get("p"))
        if connected is not None:
            call.connected_local = connected.timestamp()
        return call

    # ---- progressive dialling (连续外呼) --------------------------------------------------------------------

    async def _reconcile_sessions(self) -> None:
        """A session whose call this dialer does not have (a previous process's, never adopted) is free again."""
        try:
            freed = await self.domain.session_reconcile(live_call_uuids=[c.uuid for c in self.live_calls()])
        except Exception:  # process edge: tried again on the next connect
            logger.exception("session reconcile failed call_id=-")
            return
        if freed:
            logger.warning("freed %d progressive sessions whose call was gone call_id=-", freed)

    async def progressive_round(self) -> None:
        """Give a line to each session whose collector is free, longest-waiting first, within the lines left over
        by click-to-call and inbound calls (dialer/pacing.py)."""
        waiting = await self.domain.progressive_waiting(self.clock())
        if not waiting:
            return
        reserve = self.config.progressive_reserve_lines
        for chosen in pacing.pick(waiting, lines=self.config.lines, in_use=self.lines_in_use(), reserve=reserve,
                                  busy_extensions=self.busy_extensions()):
            if not self.client.connected.is_set() or pacing.free_for_sessions(
                    lines=self.config.lines, in_use=self.lines_in_use(), reserve=reserve) <= 0:
                return
            if chosen.extension in self.busy_extensions():
                continue  # an inbound call reached them meanwhile
            await self.progressive_dial(chosen)

    async def progressive_dial(self, waiting: pacing.Waiting, *, attempts: int = 10) -> Call | None:
        """Place a session's next call through `originate`, the same rules as click-to-call. A number the
        compliance guard refuses is logged on the session with its rule and passed over (up to `attempts` a round);
        an offline phone pauses the session; lines or the connection going: the next round tries again."""
        for _ in range(attempts):
            target = await self.domain.session_next_target(session_id=waiting.session_id)
            if target is None:
                return None
            call_uuid = uuid.uuid4().hex
            self._progressive.add(call_uuid)
            try:
                call = await self.originate(call_uuid=call_uuid, collector_id=target.collector_id,
                                            extension=target.extension, case_id=target.case_id,
                                            contact_id=target.contact_id, number=target.number,
                                            session_target=target)
            finally:
                self._progressive.discard(call_uuid)
                refused = self._refused.pop(call_uuid, None)
            if call is not None or refused is None:
                return call
            rule, message = refused
            if rule == "phone_offline":
                await self.domain.session_pause_system(
                    session_id=target.session_id, reason="您的话机不在线，连续外呼已暂停；请检查话机后点“继续”")
                return None
            if rule == "window":
                # Outside the calling window every next number would be refused too: pause instead of running
                # through the whole list (the number stays next).
                await self.domain.session_pause_system(session_id=target.session_id,
                                                       reason=f"{message}，连续外呼已暂停")
                return None
            if rule in NOT_GUARD_RULES:
                return None
            await self.domain.session_number_refused(target=target, rule=rule, message=message)
        return None

    def _lost_at(self) -> datetime:
        down = self.client.disconnected_at
        now = self.clock()
        if down is None:
            return now
        return min(now, datetime.fromtimestamp(down, tz=UTC))

    async def _act_when_connected(self, call: Call, transition: Transition) -> None:
        await asyncio.wait_for(self.client.connected.wait(), timeout=30)
        await self.act(call, transition)

    async def _retry_when_connected(self) -> None:
        await asyncio.wait_for(self.client.connected.wait(), timeout=30)
        await self.retry_recordings()

    async def end_all(self) -> None:
        """Drain timeout passed: hang up every live call (its record is written as the events arrive)."""
        for call in self.live_calls():
            call.session.cancel()
            for channel_id in call.session.channel_ids():
                with contextlib.suppress(AriError):
                    await self.client.hangup_quietly(channel_id)
