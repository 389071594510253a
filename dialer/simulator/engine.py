"""The simulated Asterisk: channels, bridges, recordings, phones, a trunk, Stasis apps and event routing.

Pure asyncio, no HTTP (that is `dialer.simulator.app`), and nothing of the product. Event shapes, order,
causes and status codes follow Asterisk as recorded in shared/ari/NOTES.md and event-examples.json.
Every "after N s" runs on `SimClock`, whose speed factor lets tests run a 30 s call in a fraction of that.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from dialer.simulator.audio import call_wav

JSON = dict[str, Any]

ASTERISK_ID = "02:fc:00:00:00:01"

# Asterisk's hangup reasons accepted by DELETE /channels/{id}?reason=..., with their Q.850 causes.
HANGUP_REASONS: dict[str, int] = {
    "normal": 16,
    "busy": 17,
    "congestion": 34,
    "no_answer": 19,
    "timeout": 19,
    "rejected": 21,
    "unallocated": 1,
    "normal_unspecified": 31,
    "number_incomplete": 28,
    "codec_mismatch": 58,
    "interworking": 127,
    "failure": 38,
    "answered_elsewhere": 26,
}
# ast_cause2str() texts.
CAUSE_TEXT: dict[int, str] = {
    0: "Unknown",
    1: "Unallocated (unassigned) number",
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    21: "Call Rejected",
    26: "Answered elsewhere",
    28: "Invalid number format (addr incomplete)",
    31: "Normal, unspecified",
    32: "Circuit/channel congestion",
    34: "Circuit/channel congestion",
    38: "Network out of order",
    58: "Bearer capability not available",
    127: "Interworking, unspecified",
}
CREATE_STASIS_DELAY = 0.05  # simulated seconds between channels/create's answer and the channel's StasisStart
DIAL_FAILURE_CAUSE = {"BUSY": 17, "NOANSWER": 19, "CHANUNAVAIL": 20, "CONGESTION": 34, "CANCEL": 16}


class SimError(Exception):
    """An ARI error response: HTTP status plus Asterisk's {"message": ...} body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def ast_true(value: str | None) -> bool:
    """Asterisk's ast_true(): yes/true/y/t/1/on are true, anything else false."""
    return (value or "").strip().lower() in {"yes", "true", "y", "t", "1", "on"}


class SimClock:
    """Simulated wall clock running `speed` times faster than real time."""

    def __init__(self, speed: float = 1.0, tz_offset_minutes: int = 480) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.tz = timezone(timedelta(minutes=tz_offset_minutes))
        self._real0 = time.monotonic()
        self._wall0 = datetime.now(self.tz)

    def now(self) -> datetime:
        return self._wall0 + timedelta(seconds=(time.monotonic() - self._real0) * self.speed)

    def stamp(self, at: datetime | None = None) -> str:
        """Asterisk's timestamp format: 2026-11-28T15:11:43.779+0800."""
        moment = at or self.now()
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self.speed)


@dataclass
class FarEnd:
    """How a number on the trunk (or a phone) behaves when called."""

    behaviour: str = "answer"  # answer | busy | no_answer | unreachable
    answer_after: float = 2.0
    hangup_after: float | None = None  # seconds after answer
    dtmf: str = ""  # digits sent one second after answer
    ring_after: float = 0.2

    @classmethod
    def from_json(cls, data: JSON, base: FarEnd | None = None) -> FarEnd:
        current = base or cls()
        behaviour = str(data.get("behaviour", current.behaviour))
        if behaviour not in {"answer", "busy", "no_answer", "unreachable", "unavailable"}:
            raise SimError(400, f"unknown behaviour {behaviour!r}")
        hangup_after = data.get("hangup_after", current.hangup_after)
        return cls(
            behaviour=behaviour,
            answer_after=float(data.get("answer_after", current.answer_after)),
            hangup_after=None if hangup_after is None else float(hangup_after),
            dtmf=str(data.get("dtmf", current.dtmf)),
            ring_after=float(data.get("ring_after", current.ring_after)),
        )

    def to_json(self) -> JSON:
        return {
            "behaviour": self.behaviour,
            "answer_after": self.answer_after,
            "hangup_after": self.hangup_after,
            "dtmf": self.dtmf,
            "ring_after": self.ring_after,
        }


@dataclass
class Phone:
    ext: str
    name: str
    online: bool = True
    far_end: FarEnd = field(default_factory=lambda: FarEnd(answer_after=1.0))


@dataclass
class Channel:
    id: str
    name: str
    kind: str  # phone | trunk | snoop
    endpoint: str  # "PJSIP/1001", "PJSIP/trunk" or "" for snoop
    dialstring: str
    state: str
    caller_name: str
    caller_number: str
    context: str
    exten: str
    created: datetime
    connected_name: str = ""
    connected_number: str = ""
    priority: int = 1
    app_name: str = ""
    app_data: str = ""
    protocol_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    stasis_app: str | None = None
    pending_app: str | None = None  # originate: enters Stasis when answered
    pending_args: list[str] = field(default_factory=list)
    bridge_id: str | None = None
    uses_line: bool = False
    dialing: bool = False
    dial_caller_id: str | None = None
    answered_at: datetime | None = None
    far_end: FarEnd | None = None
    variables: dict[str, str] = field(default_factory=dict)
    snoop_of: str | None = None
    gone: bool = False
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "protocol_id": self.protocol_id,
            "caller": {"name": self.caller_name, "number": self.caller_number},
            "connected": {"name": self.connected_name, "number": self.connected_number},
            "accountcode": "",
            "dialplan": {
                "context": self.context,
                "exten": self.exten,
                "priority": self.priority,
                "app_name": self.app_name,
                "app_data": self.app_data,
            },
            "creationtime": "",  # filled by Engine.channel_json (needs the clock's format)
            "language": "en",
        }


@dataclass
class Bridge:
    id: str
    name: str
    bridge_type: str
    created: datetime
    channels: list[str] = field(default_factory=list)
    recording: str | None = None


@dataclass
class LiveRecording:
    name: str
    format: str
    target_uri: str
    state: str
    started: datetime | None = None
    max_duration: float = 0.0
    task: asyncio.Task[None] | None = None

    def to_json(self) -> JSON:
        return {"name": self.name, "format": self.format, "state": self.state, "target_uri": self.target_uri}


@dataclass
class StoredRecording:
    name: str
    format: str
    duration: float
    _wav: bytes | None = None

    def wav(self) -> bytes:
        if self._wav is None:
            self._wav = call_wav(self.duration, seed=self.name)
        return self._wav


@dataclass
class App:
    name: str
    subscribe_all: bool = False
    subscriptions: set[str] = field(default_factory=set)
    queue: asyncio.Queue[JSON | None] | None = None  # the connected websocket's outbox, None when disconnected


class Engine:
    """All simulator state. Methods raise SimError for ARI error responses."""

    def __init__(
        self,
        *,
        phones: Iterable[str],
        lines: int,
        trunk: str = "trunk",
        speed: float = 1.0,
        tz_offset_minutes: int = 480,
        user: str = "asterisk",
        password: str = "asterisk",
    ) -> None:
        self.clock = SimClock(speed, tz_offset_minutes)
        self.user = user
        self.password = password
        self.trunk = trunk
        self.lines = lines
        self.initial_phones = list(phones)
        self.phones: dict[str, Phone] = {}
        self.scripts: dict[str, FarEnd] = {}
        self.stored: dict[str, StoredRecording] = {}
        # Real Asterisk (shared/asterisk/README.md, "Real Asterisk behaviour ..."): channels/create answers
        # before StasisStart, which follows this many simulated seconds later.
        self.create_stasis_delay = CREATE_STASIS_DELAY
        # RecordingFinished is sometimes missing when a bridge is destroyed: the next N such finishes send none.
        self.drop_recording_finished = 0
        self._reset_calls()
        self.reset_config()

    # ---- lifecycle -------------------------------------------------------------------------------------

    def _reset_calls(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.bridges: dict[str, Bridge] = {}
        self.live: dict[str, LiveRecording] = {}
        self.apps: dict[str, App] = {}
        self._seq = itertools.count()
        self._uid = itertools.count(1)
        self.boot = int(time.time())
        self.startup = self.clock.now()

    def info(self, only: str | None = None) -> JSON:
        """GET /asterisk/info: startup_time changes on every restart (how a dialer tells a restart from a drop)."""
        data: JSON = {
            "build": {"os": "Linux", "kernel": "6.1.0", "options": "", "machine": "x86_64", "date": "", "user": "sim"},
            "system": {"version": "22.0.0-simulator", "entity_id": ASTERISK_ID},
            "config": {"name": "", "default_language": "en", "setid": {"user": "asterisk", "group": "asterisk"}},
            "status": {
                "startup_time": self.clock.stamp(self.startup),
                "last_reload_time": self.clock.stamp(self.startup),
            },
        }
        if only:
            wanted = set(only.split(","))
            data = {k: v for k, v in data.items() if k in wanted}
        return data

    def ping(self) -> JSON:
        return {"asterisk_id": ASTERISK_ID, "ping": "pong", "timestamp": self.clock.stamp()}

    def reset_config(self) -> None:
        self.phones = {ext: Phone(ext=ext, name=f"Collector {ext}") for ext in self.initial_phones}
        self.scripts = {}
        # What the carrier was sent on each trunk dial (the SIPp UAS's INVITE on the kit): the number dialled and
        # the caller ID shown (From), as the channel's connected line (else its caller id) stood at the dial.
        self.trunk_dials: list[JSON] = []
        self.create_stasis_delay = CREATE_STASIS_DELAY
        self.drop_recording_finished = 0

    def set_quirks(self, data: JSON) -> JSON:
        """Tests: how closely to follow real Asterisk's timing quirks."""
        if "create_stasis_delay" in data:
            self.create_stasis_delay = max(0.0, float(data["create_stasis_delay"]))
        if "drop_recording_finished" in data:
            self.drop_recording_finished = max(0, int(data["drop_recording_finished"]))
        return {"create_stasis_delay": self.create_stasis_delay,
                "drop_recording_finished": self.drop_recording_finished}

    def restart(self) -> None:
        """Like an Asterisk restart: calls, bridges, live recordings and apps vanish; websockets close."""
        for channel in list(self.channels.values()):
            self._cancel_tasks(channel)
        for recording in self.live.values():
            if recording.task is not None:
                recording.task.cancel()
        for app in self.apps.values():
            if app.queue is not None:
                app.queue.put_nowait(None)
        self._reset_calls()

    def reset(self) -> None:
        """Everything back to the start, stored recordings and far-end scripts included (tests)."""
        self.restart()
        self.stored = {}
        self.reset_config()

    def drop_websockets(self) -> int:
        dropped = 0
        for app in self.apps.values():
            if app.queue is not None:
                app.queue.put_nowait(None)
                app.queue = None
                dropped += 1
        return dropped

    def check_auth(self, api_key: str | None, basic: tuple[str, str] | None) -> bool:
        if basic is not None:
            return basic == (self.user, self.password)
        if api_key is None or ":" not in api_key:
            return False
        user, _, password = api_key.partition(":")
        return (user, password) == (self.user, self.password)

    # ---- identifiers and JSON --------------------------------------------------------------------------

    def _unique_id(self) -> str:
        return f"{self.boot}.{next(self._uid)}"

    def _channel_name(self, resource: str) -> str:
        return f"{resource}-{next(self._seq):08x}"

    def channel_json(self, channel: Channel) -> JSON:
        data = channel.to_json()
        data["creationtime"] = self.clock.stamp(channel.created)
        return data

    def bridge_json(self, bridge: Bridge) -> JSON:
        technology = "softmix" if bridge.recording or len(bridge.channels) > 2 else "simple_bridge"
        return {
            "id": bridge.id,
            "technology": technology,
            "bridge_type": bridge.bridge_type,
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": bridge.name,
            "channels": list(bridge.channels),
            "creationtime": self.clock.stamp(bridge.created),
            "video_mode": "talker",
        }

    def endpoint_json(self, resource: str) -> JSON:
        ref = f"PJSIP/{resource}"
        state = "online" if resource == self.trunk or self.phones[resource].online else "offline"
        return {
            "technology": "PJSIP",
            "resource": resource,
            "state": state,
            "channel_ids": [c.id for c in self.channels.values() if c.endpoint == ref],
        }

    def device_state(self, resource: str) -> str:
        if resource in self.phones and not self.phones[resource].online:
            return "UNAVAILABLE"
        ref = f"PJSIP/{resource}"
        states = [c.state for c in self.channels.values() if c.endpoint == ref]
        if not states:
            return "NOT_INUSE"
        if all(s == "Ringing" for s in states):
            return "RINGING"
        return "INUSE"

    def app_json(self, app: App) -> JSON:
        def ids(prefix: str, exists: Callable[[str], bool]) -> list[str]:
            found = (s[len(prefix) :] for s in app.subscriptions if s.startswith(prefix))
            return sorted(i for i in found if exists(i))

        return {
            "name": app.name,
            "channel_ids": ids("channel:", lambda i: i in self.channels),
            "bridge_ids": ids("bridge:", lambda i: i in self.bridges),
            "endpoint_ids": ids("endpoint:", lambda _i: True),
            "device_names": ids("deviceState:", lambda _i: True),
            "events_allowed": [],
            "events_disallowed": [],
        }

    # ---- event routing ---------------------------------------------------------------------------------

    def _send(self, app: App, event: JSON, copies: int = 1) -> None:
        if app.queue is None:
            return  # no websocket: Asterisk drops the event, it is never replayed
        message = dict(event)
        message["asterisk_id"] = ASTERISK_ID
        message["application"] = app.name
        for _ in range(copies):
            app.queue.put_nowait(message)

    def _publish(self, event_type: str, body: JSON, topics: Iterable[str]) -> None:
        """Send an event to every app subscribed to one of `topics`: once per matching subscription.

        Overlapping subscriptions (a channel and its endpoint, say) deliver the event more than once, as
        Asterisk does; subscribeAll apps get every topic's events.
        """
        event = {"type": event_type, "timestamp": self.clock.stamp(), **body}
        topic_set = set(topics)
        for app in list(self.apps.values()):
            matches = len(app.subscriptions & topic_set)
            if app.subscribe_all:
                matches = max(matches, 1)
            if matches:
                self._send(app, event, matches)

    def _channel_topics(self, *channels: Channel) -> list[str]:
        topics = []
        for channel in channels:
            topics.append(f"channel:{channel.id}")
            if channel.endpoint:
                topics.append(f"endpoint:{channel.endpoint}")
        return topics

    def _channel_event(self, event_type: str, channel: Channel, **extra: Any) -> None:
        self._publish(event_type, {**extra, "channel": self.channel_json(channel)}, self._channel_topics(channel))

    def _stasis_event(self, event_type: str, channel: Channel, app_name: str, **extra: Any) -> None:
        app = self.apps.get(app_name)
        if app is not None:
            body = {"type": event_type, "timestamp": self.clock.stamp(), **extra, "channel": self.channel_json(channel)}
            self._send(app, body)

    def _device_changed(self, channel: Channel) -> None:
        if channel.kind != "phone":
            return
        resource = channel.endpoint.split("/", 1)[1]
        name = channel.endpoint
        self._publish(
            "DeviceStateChanged",
            {"device_state": {"name": name, "state": self.device_state(resource)}},
            [f"deviceState:{name}", f"endpoint:{name}"],
        )

    def _endpoint_changed(self, resource: str) -> None:
        self._publish("EndpointStateChange", {"endpoint": self.endpoint_json(resource)}, [f"endpoint:PJSIP/{resource}"])

    def _set_state(self, channel: Channel, state: str) -> None:
        if channel.state == state:
            return
        channel.state = state
        self._channel_event("ChannelStateChange", channel)
        self._device_changed(channel)

    def _dial_event(self, peer: Channel, status: str, caller: Channel | None = None) -> None:
        body: JSON = {"dialstatus": status, "forward": "", "dialstring": peer.dialstring}
        if caller is not None:
            body["caller"] = self.channel_json(caller)
        body["peer"] = self.channel_json(peer)
        self._publish("Dial", body, self._channel_topics(peer))

    # ---- websocket -------------------------------------------------------------------------------------

    def connect_app(self, names: list[str], subscribe_all: bool) -> asyncio.Queue[JSON | None]:
        queue: asyncio.Queue[JSON | None] = asyncio.Queue()
        for name in names:
            app = self.apps.get(name)
            if app is None:
                app = self.apps[name] = App(name=name, subscribe_all=subscribe_all)
            # An existing app keeps its subscriptions; subscribeAll is ignored on reconnect.
            if app.queue is not None:
                self._send(app, {"type": "ApplicationReplaced", "timestamp": self.clock.stamp()})
                app.queue.put_nowait(None)
            app.queue = queue
        return queue

    def disconnect_app(self, queue: asyncio.Queue[JSON | None]) -> None:
        for app in self.apps.values():
            if app.queue is queue:
                app.queue = None

    # ---- channel helpers -------------------------------------------------------------------------------

    def _spawn(self, channel: Channel, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        channel.tasks.add(task)
        task.add_done_callback(channel.tasks.discard)

    def _cancel_tasks(self, channel: Channel) -> None:
        current = asyncio.current_task() if _loop_running() else None
        for task in list(channel.tasks):
            if task is not current:
                task.cancel()

    def get_channel(self, channel_id: str, *, status: int = 404, message: str = "Channel not found") -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None or channel.gone:
            raise SimError(status, message)
        return channel

    def _lines_busy(self) -> int:
        return sum(1 for c in self.channels.values() if c.uses_line and not c.gone)

    def _parse_endpoint(self, endpoint: str) -> tuple[str, str, str]:
        """PJSIP/1001 → (phone, "1001", "1001"); PJSIP/5551234@trunk → (trunk, trunk, "5551234")."""
        tech, _, rest = endpoint.partition("/")
        if tech.upper() != "PJSIP" or not rest:
            raise SimError(400, "Invalid endpoint")
        number, _, at = rest.partition("@")
        if at:
            if at != self.trunk:
                raise SimError(500, "Allocation failed")
            return "trunk", self.trunk, number
        phone = self.phones.get(number)
        if phone is None or not phone.online:
            # chan_pjsip cannot create a channel to an endpoint without a registered contact.
            raise SimError(500, "Allocation failed")
        return "phone", number, number

    def _new_channel(self, *, endpoint: str, channel_id: str | None, context: str) -> Channel:
        if channel_id and channel_id in self.channels:
            raise SimError(409, "Channel with given unique ID already exists")
        kind, resource, number = self._parse_endpoint(endpoint)
        if kind == "phone":
            phone = self.phones[resource]
            caller_name, caller_number, far_end = phone.name, phone.ext, phone.far_end
        else:
            caller_name, caller_number = "", ""
            far_end = self.scripts.get(number, FarEnd())
        channel = Channel(
            id=channel_id or self._unique_id(),
            name=self._channel_name(f"PJSIP/{resource}"),
            kind=kind,
            endpoint=f"PJSIP/{resource}",
            dialstring=endpoint.partition("/")[2],
            state="Down",
            caller_name=caller_name,
            caller_number=caller_number,
            context=context,
            exten="s",
            created=self.clock.now(),
            far_end=far_end,
        )
        self.channels[channel.id] = channel
        self._endpoint_changed(resource)
        return channel

    def _subscribe(self, app_name: str, source: str) -> None:
        app = self.apps.get(app_name)
        if app is None:
            app = self.apps[app_name] = App(name=app_name)
        app.subscriptions.add(source)

    @staticmethod
    def _split_caller_id(caller_id: str) -> tuple[str, str]:
        if "<" in caller_id and caller_id.endswith(">"):
            name, _, number = caller_id[:-1].partition("<")
            return name.strip().strip('"'), number.strip()
        return "", caller_id.strip()

    # ---- channels: originate, create, dial -------------------------------------------------------------

    def originate(
        self, *, endpoint: str, app: str | None, app_args: str, channel_id: str | None, caller_id: str, timeout: int
    ) -> JSON:
        if not app:
            raise SimError(400, "Application or extension must be specified")
        channel = self._new_channel(endpoint=endpoint, channel_id=channel_id, context="from-internal")
        channel.pending_app = app
        channel.pending_args = app_args.split(",") if app_args else []
        # Asterisk subscribes the app to the new channel at once: the app sees the dial progress before
        # StasisStart (NOTES fact 1), even while its websocket is down (then those events are just lost).
        self._subscribe(app, f"channel:{channel.id}")
        result = self.channel_json(channel)
        self._channel_event("ChannelCreated", channel)
        channel.app_name, channel.app_data = "AppDial2", "(Outgoing Line)"
        self._channel_event("ChannelDialplan", channel, dialplan_app="AppDial2", dialplan_app_data="(Outgoing Line)")
        if caller_id:
            name, number = self._split_caller_id(caller_id)
            channel.caller_name, channel.caller_number = name, number
            self._channel_event(
                "ChannelCallerId",
                channel,
                caller_presentation=0,
                caller_presentation_txt="Presentation Allowed, Not Screened",
            )
            channel.connected_name, channel.connected_number = name, number
            self._channel_event("ChannelConnectedLine", channel)
        self._start_dial(channel, timeout=timeout, caller=None)
        return result

    def create(self, *, endpoint: str, app: str, app_args: str, channel_id: str | None) -> JSON:
        if not app:
            raise SimError(400, "app is required")
        channel = self._new_channel(
            endpoint=endpoint, channel_id=channel_id, context="from-trunk" if "@" in endpoint else "from-internal"
        )
        self._subscribe(app, f"channel:{channel.id}")
        self._channel_event("ChannelCreated", channel)
        args = app_args.split(",") if app_args else []
        result = self.channel_json(channel)
        if self.create_stasis_delay > 0 and _loop_running():
            # Real Asterisk answers before the channel is in the app; a dial sent now gets 409.
            self._spawn(channel, self._enter_stasis_later(channel, app, args))
        else:
            self._enter_stasis(channel, app, args)
        return result

    async def _enter_stasis_later(self, channel: Channel, app: str, args: list[str]) -> None:
        await self.clock.sleep(self.create_stasis_delay)
        if not channel.gone:
            self._enter_stasis(channel, app, args)

    def _enter_stasis(self, channel: Channel, app: str, args: list[str]) -> None:
        channel.app_name = "Stasis"
        channel.app_data = ",".join([app, *args])
        channel.stasis_app = app
        self._subscribe(app, f"channel:{channel.id}")
        self._channel_event("ChannelVarset", channel, variable="STASISSTATUS", value="")
        self._stasis_event("StasisStart", channel, app, args=args)

    def dial(self, *, channel_id: str, caller: str | None, timeout: int) -> None:
        channel = self.get_channel(channel_id, message="Channel cannot be found")
        if channel.stasis_app is None:
            raise SimError(409, "Channel not in Stasis application")
        if channel.dialing or channel.state != "Down" or channel.kind == "snoop":
            raise SimError(409, "Channel cannot be dialed")
        caller_channel = self.channels.get(caller) if caller else None
        if caller_channel is not None:
            channel.connected_name = caller_channel.caller_name
            channel.connected_number = caller_channel.caller_number
        self._start_dial(channel, timeout=timeout, caller=caller_channel)

    def _start_dial(self, channel: Channel, *, timeout: int, caller: Channel | None) -> None:
        channel.dialing = True
        channel.dial_caller_id = caller.id if caller is not None else None
        self._dial_event(channel, "", caller)
        if channel.kind == "trunk":
            self.trunk_dials.append({"channel_id": channel.id, "number": channel.dialstring.partition("@")[0],
                                     "caller_id": channel.connected_number or channel.caller_number})
            if self._lines_busy() >= self.lines:
                self._spawn(channel, self._fail_dial(channel, "CHANUNAVAIL", 34, delay=0.0))
                return
            channel.uses_line = True
        self._spawn(channel, self._run_far_end(channel, timeout))

    async def _fail_dial(self, channel: Channel, status: str, cause: int, delay: float) -> None:
        await self.clock.sleep(delay)
        if channel.kind == "trunk":
            # A created+dialled trunk leg that fails (busy 17, not found 1, unavailable 34) gets no final Dial:
            # only ChannelHangupRequest with the cause, StasisEnd and ChannelDestroyed with the same cause.
            channel.dialing = False
            self._destroy(channel, cause=cause, by_ari=False, request=True)
            return
        if status == "NOANSWER" and channel.pending_app:
            # The originate timeout on a collector's phone: only ChannelDestroyed, cause 19.
            channel.dialing = False
            self._destroy(channel, cause=cause, by_ari=False, request=False)
            return
        self._finish_dial(channel, status)
        self._destroy(channel, cause=cause, by_ari=False, request=False)

    async def _ring_timeout(self, channel: Channel) -> None:
        """The dial timeout on a trunk leg: a soft hangup request (cause 32), then ChannelDestroyed cause 19."""
        channel.dialing = False
        self._channel_event("ChannelHangupRequest", channel, cause=32, soft=True)
        self._destroy(channel, cause=19, by_ari=False, request=False)

    def _finish_dial(self, channel: Channel, status: str) -> None:
        channel.dialing = False
        caller = self.channels.get(channel.dial_caller_id or "")
        self._dial_event(channel, status, caller)

    async def _run_far_end(self, channel: Channel, timeout: int) -> None:
        far = channel.far_end or FarEnd()
        if far.behaviour == "unreachable":
            await self._fail_dial(channel, "CHANUNAVAIL", 1, delay=far.ring_after)
            return
        if far.behaviour == "unavailable":
            await self._fail_dial(channel, "CONGESTION", 34, delay=far.ring_after)
            return
        if far.behaviour == "busy":
            await self._fail_dial(channel, "BUSY", 17, delay=far.ring_after)
            return
        await self.clock.sleep(far.ring_after)
        self._set_state(channel, "Ringing")
        self._finish_dial_progress(channel, "RINGING")
        ring_for = far.answer_after - far.ring_after
        limit = timeout if timeout > 0 else 120
        if far.behaviour == "no_answer" or ring_for >= limit - far.ring_after:
            await self.clock.sleep(limit - far.ring_after)
            if channel.kind == "trunk":
                await self._ring_timeout(channel)
            else:
                await self._fail_dial(channel, "NOANSWER", 19, delay=0.0)
            return
        await self.clock.sleep(ring_for)
        if not self._answered(channel):
            return
        elapsed = 0.0
        if far.dtmf:
            await self.clock.sleep(1.0)
            elapsed += 1.0
            for digit in far.dtmf:
                self._channel_event("ChannelDtmfReceived", channel, digit=digit, duration_ms=120)
                await self.clock.sleep(0.3)
                elapsed += 0.3
        if far.hangup_after is not None:
            await self.clock.sleep(far.hangup_after - elapsed)
            self.far_end_hangup(channel.id)

    def _finish_dial_progress(self, channel: Channel, status: str) -> None:
        caller = self.channels.get(channel.dial_caller_id or "")
        self._dial_event(channel, status, caller)

    def _answered(self, channel: Channel) -> bool:
        """The far end picked up; False when the call was then dropped (originate to a disconnected app)."""
        channel.answered_at = self.clock.now()
        self._set_state(channel, "Up")
        self._finish_dial(channel, "ANSWER")
        if channel.pending_app:
            app, args = channel.pending_app, channel.pending_args
            channel.pending_app = None
            registered = self.apps.get(app)
            if registered is None or registered.queue is None:
                # Stasis() fails without a connected app: the answered call is hung up (NOTES: never
                # originate while disconnected).
                self._channel_event("ChannelVarset", channel, variable="STASISSTATUS", value="FAILED")
                self._destroy(channel, cause=16, by_ari=False, request=True)
                return False
            self._enter_stasis(channel, app, args)
        return True

    # ---- channels: answer, ring, hangup, DTMF ----------------------------------------------------------

    def answer(self, channel_id: str) -> None:
        channel = self.get_channel(channel_id)
        if channel.stasis_app is None:
            raise SimError(409, "Channel not in a Stasis application")
        if channel.state not in {"Ring", "Ringing", "Up"}:
            raise SimError(412, "Channel in invalid state")
        if channel.state != "Up":
            channel.answered_at = self.clock.now()
            self._set_state(channel, "Up")

    def get_variable(self, channel_id: str, variable: str) -> str:
        if not variable:
            raise SimError(400, "Variable name is required")
        channel = self.get_channel(channel_id, message="Channel or variable not found")
        if variable not in channel.variables:
            raise SimError(404, "Provided variable was not found")
        return channel.variables[variable]

    def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        if not variable:
            raise SimError(400, "Variable name is required")
        channel = self.get_channel(channel_id)
        channel.variables[variable] = value
        # The dialplan functions the dialer writes (chan_pjsip's From comes from the connected line).
        name = variable.partition(",")[0].rstrip(")")
        if name == "CONNECTEDLINE(num":
            channel.connected_number = value
        elif name == "CONNECTEDLINE(name":
            channel.connected_name = value
        elif name == "CALLERID(num":
            channel.caller_number = value
        elif name == "CALLERID(name":
            channel.caller_name = value

    def ring(self, channel_id: str) -> None:
        channel = self.get_channel(channel_id)
        if channel.stasis_app is None:
            raise SimError(409, "Channel not in a Stasis application")

    def hangup(self, channel_id: str, *, reason: str | None, reason_code: str | None) -> None:
        channel = self.get_channel(channel_id)
        if reason_code:
            try:
                cause = int(reason_code)
            except ValueError as exc:
                raise SimError(400, "Invalid reason for hangup provided") from exc
        elif reason:
            if reason not in HANGUP_REASONS:
                raise SimError(400, "Invalid reason for hangup provided")
            cause = HANGUP_REASONS[reason]
        else:
            cause = 16
        self._destroy(channel, cause=cause, by_ari=True, request=True)

    def far_end_hangup(self, channel_id: str, cause: int = 16) -> None:
        channel = self.get_channel(channel_id)
        # An inbound caller's BYE: the channel leaves the app and ends in the dialplan, so the app sees
        # ChannelHangupRequest and StasisEnd but no ChannelDestroyed.
        inbound = channel.kind == "trunk" and channel.context == "from-trunk" and channel.pending_app is None \
            and channel.app_data.split(",")[1:2] == ["inbound"]
        self._destroy(channel, cause=cause, by_ari=False, request=True, destroyed_event=not inbound)

    def send_dtmf(self, channel_id: str, digits: str) -> None:
        channel = self.get_channel(channel_id)
        for digit in digits:
            self._channel_event("ChannelDtmfReceived", channel, digit=digit, duration_ms=120)

    def _destroy(self, channel: Channel, *, cause: int, by_ari: bool, request: bool,
                 destroyed_event: bool = True) -> None:
        """Hang up in Asterisk's order: HangupRequest → (Dial CANCEL) → LeftBridge → StasisEnd → Destroyed."""
        if channel.gone:
            return
        channel.gone = True
        self._cancel_tasks(channel)
        if request:
            # An ARI DELETE is a soft hangup request (cause 32 in the request event, the reason in Destroyed).
            extra: JSON = {"cause": 32, "soft": True} if by_ari else {"cause": cause}
            self._channel_event("ChannelHangupRequest", channel, **extra)
        if channel.dialing and by_ari and channel.pending_app:
            # Hanging up a ringing originated leg ends its Dial NOANSWER on real Asterisk, never CANCEL.
            self._finish_dial(channel, "NOANSWER")
        channel.dialing = False
        if channel.bridge_id is not None:
            self._leave_bridge(channel)
        for snoop in [c for c in self.channels.values() if c.snoop_of == channel.id and not c.gone]:
            self._destroy(snoop, cause=16, by_ari=False, request=True)
        if channel.stasis_app is not None:
            self._stasis_event("StasisEnd", channel, channel.stasis_app)
        channel.app_name, channel.app_data = "", ""
        if destroyed_event:
            self._channel_event("ChannelDestroyed", channel, cause=cause, cause_txt=CAUSE_TEXT.get(cause, "Unknown"))
        del self.channels[channel.id]
        self._device_changed(channel)
        if channel.endpoint:
            self._endpoint_changed(channel.endpoint.split("/", 1)[1])

    # ---- snoop -----------------------------------------------------------------------------------------

    def snoop(self, *, channel_id: str, spy: str, whisper: str, app: str, app_args: str, snoop_id: str | None) -> JSON:
        if spy not in {"none", "in", "out", "both"} or whisper not in {"none", "in", "out", "both"}:
            raise SimError(400, "Invalid direction specified")
        if spy == "none" and whisper == "none":
            raise SimError(400, "Direction must be specified for at least spy or whisper")
        if not app:
            raise SimError(400, "Application name is required")
        target = self.get_channel(channel_id)
        if snoop_id and snoop_id in self.channels:
            raise SimError(409, "Channel with given unique ID already exists")
        snoop = Channel(
            id=snoop_id or self._unique_id(),
            name=self._channel_name(f"Snoop/{target.id}"),
            kind="snoop",
            endpoint="",
            dialstring="",
            state="Up",
            caller_name="",
            caller_number="",
            context="default",
            exten="s",
            created=self.clock.now(),
            snoop_of=target.id,
        )
        self.channels[snoop.id] = snoop
        self._subscribe(app, f"channel:{snoop.id}")
        self._channel_event("ChannelCreated", snoop)
        self._enter_stasis(snoop, app, app_args.split(",") if app_args else [])
        return self.channel_json(snoop)

    # ---- bridges ---------------------------------------------------------------------------------------

    def create_bridge(self, *, bridge_type: str, bridge_id: str | None, name: str) -> JSON:
        if bridge_id and bridge_id in self.bridges:
            raise SimError(409, "Bridge with the same bridgeId already exists")
        kind = (bridge_type or "mixing").split(",")[0]
        if kind not in {"mixing", "holding", "dtmf_events", "proxy_media", "video_sfu", "video_single"}:
            raise SimError(400, "Invalid bridge type")
        bridge = Bridge(id=bridge_id or str(uuid.uuid4()), name=name, bridge_type=kind, created=self.clock.now())
        self.bridges[bridge.id] = bridge
        # Only subscribeAll apps hear about it: the creating app is not subscribed yet.
        self._publish("BridgeCreated", {"bridge": self.bridge_json(bridge)}, [f"bridge:{bridge.id}"])
        return self.bridge_json(bridge)

    def get_bridge(self, bridge_id: str) -> Bridge:
        bridge = self.bridges.get(bridge_id)
        if bridge is None:
            raise SimError(404, "Bridge not found")
        return bridge

    def add_channel(self, bridge_id: str, channel_ids: list[str]) -> None:
        bridge = self.get_bridge(bridge_id)
        channels = [self.get_channel(cid, status=400, message="Channel not found") for cid in channel_ids]
        for channel in channels:
            if channel.stasis_app is None:
                raise SimError(422, "Channel not in Stasis application")
        for channel in channels:
            if channel.bridge_id == bridge.id:
                continue
            if channel.bridge_id is not None:
                self._leave_bridge(channel)
            self._subscribe(channel.stasis_app or "", f"bridge:{bridge.id}")
            channel.bridge_id = bridge.id
            bridge.channels.append(channel.id)
            self._publish(
                "ChannelEnteredBridge",
                {"bridge": self.bridge_json(bridge), "channel": self.channel_json(channel)},
                [f"bridge:{bridge.id}"],
            )

    def remove_channel(self, bridge_id: str, channel_ids: list[str]) -> None:
        bridge = self.get_bridge(bridge_id)
        channels = [self.get_channel(cid, status=400, message="Channel not found") for cid in channel_ids]
        for channel in channels:
            if channel.bridge_id != bridge.id:
                raise SimError(422, "Channel not in this bridge")
        for channel in channels:
            self._leave_bridge(channel)

    def _leave_bridge(self, channel: Channel) -> None:
        bridge = self.bridges.get(channel.bridge_id or "")
        channel.bridge_id = None
        if bridge is None:
            return
        bridge.channels.remove(channel.id)
        self._publish(
            "ChannelLeftBridge",
            {"bridge": self.bridge_json(bridge), "channel": self.channel_json(channel)},
            [f"bridge:{bridge.id}"],
        )
        if not bridge.channels and bridge.recording:
            self._finish_recording(bridge.recording)

    def destroy_bridge(self, bridge_id: str) -> None:
        bridge = self.get_bridge(bridge_id)
        for channel_id in list(bridge.channels):
            channel = self.channels.get(channel_id)
            if channel is not None:
                self._leave_bridge(channel)
        if bridge.recording:
            self._finish_recording(bridge.recording)
        del self.bridges[bridge.id]
        self._publish("BridgeDestroyed", {"bridge": self.bridge_json(bridge)}, [f"bridge:{bridge.id}"])

    # ---- recordings ------------------------------------------------------------------------------------

    def record_bridge(
        self, bridge_id: str, *, name: str, fmt: str, if_exists: str, max_duration: int, beep: bool
    ) -> JSON:
        bridge = self.get_bridge(bridge_id)
        if not name or not fmt:
            raise SimError(400, "Invalid parameters")
        if fmt not in {"wav", "gsm", "ulaw", "alaw", "sln"}:
            raise SimError(422, "The format specified is unknown on this system")
        if if_exists not in {"fail", "overwrite", "append"}:
            raise SimError(400, "ifExists invalid")
        if name in self.live or (name in self.stored and if_exists == "fail"):
            raise SimError(409, "A recording with the same name already exists on the system")
        recording = LiveRecording(
            name=name, format=fmt, target_uri=f"bridge:{bridge.id}", state="queued", max_duration=float(max_duration)
        )
        self.live[name] = recording
        bridge.recording = name
        result = recording.to_json()
        recording.task = asyncio.get_running_loop().create_task(self._start_recording(recording, beep))
        return result

    async def _start_recording(self, recording: LiveRecording, beep: bool) -> None:
        await self.clock.sleep(0.5 if beep else 0.01)
        if self.live.get(recording.name) is not recording:
            return
        recording.state = "recording"
        recording.started = self.clock.now()
        self._publish("RecordingStarted", {"recording": recording.to_json()}, [recording.target_uri])
        if recording.max_duration > 0:
            await self.clock.sleep(recording.max_duration)
            if self.live.get(recording.name) is recording:
                self._finish_recording(recording.name)

    def _finish_recording(self, name: str, *, cancel: bool = False, stopped: bool = False) -> None:
        recording = self.live.pop(name, None)
        if recording is None:
            return
        if recording.task is not None and recording.task is not asyncio.current_task():
            recording.task.cancel()
        bridge = self.bridges.get(recording.target_uri.partition(":")[2])
        if bridge is not None and bridge.recording == name:
            bridge.recording = None
        duration = (self.clock.now() - recording.started).total_seconds() if recording.started else 0.0
        if cancel:
            recording.state = "canceled"
            self._publish("RecordingFinished", {"recording": recording.to_json()}, [recording.target_uri])
            return
        recording.state = "done"
        self.stored[name] = StoredRecording(name=name, format=recording.format, duration=duration)
        if not stopped and self.drop_recording_finished > 0:
            # Real Asterisk sometimes sends no RecordingFinished when a bridge empties or is destroyed.
            self.drop_recording_finished -= 1
            return
        body = recording.to_json()
        body["duration"] = round(duration)
        self._publish("RecordingFinished", {"recording": body}, [recording.target_uri])

    def get_live(self, name: str) -> JSON:
        recording = self.live.get(name)
        if recording is None:
            raise SimError(404, "Recording not found")
        return recording.to_json()

    def stop_live(self, name: str, *, cancel: bool = False) -> None:
        if name not in self.live:
            raise SimError(404, "Recording not found")
        self._finish_recording(name, cancel=cancel, stopped=True)

    def get_stored(self, name: str) -> StoredRecording:
        recording = self.stored.get(name)
        if recording is None:
            raise SimError(404, "Recording not found")
        return recording

    def delete_stored(self, name: str) -> None:
        self.get_stored(name)
        del self.stored[name]

    # ---- applications ----------------------------------------------------------------------------------

    def get_app(self, name: str) -> App:
        app = self.apps.get(name)
        if app is None:
            raise SimError(404, "Application not found")
        return app

    def _check_source(self, source: str) -> None:
        kind, _, ident = source.partition(":")
        if kind == "channel":
            exists = ident in self.channels
        elif kind == "bridge":
            exists = ident in self.bridges
        elif kind == "endpoint":
            tech, _, resource = ident.partition("/")
            exists = tech == "PJSIP" and (resource in self.phones or resource == self.trunk)
        elif kind == "deviceState":
            exists = ident.startswith("PJSIP/") and ident[6:] in self.phones
        else:
            raise SimError(400, "Invalid event source URI scheme")
        if not exists:
            raise SimError(422, "Event source does not exist")

    def subscribe(self, name: str, sources: list[str]) -> JSON:
        app = self.get_app(name)
        if not sources:
            raise SimError(400, "Missing parameter eventSource")
        for source in sources:
            self._check_source(source)
        app.subscriptions.update(sources)
        return self.app_json(app)

    def unsubscribe(self, name: str, sources: list[str]) -> JSON:
        app = self.get_app(name)
        if not sources:
            raise SimError(400, "Missing parameter eventSource")
        for source in sources:
            if source not in app.subscriptions:
                raise SimError(409, "Application not subscribed to event source")
        app.subscriptions.difference_update(sources)
        return self.app_json(app)

    # ---- endpoints and phones --------------------------------------------------------------------------

    def endpoint_resources(self) -> list[str]:
        return [*self.phones, self.trunk]

    def set_phone(self, ext: str, data: JSON) -> JSON:
        phone = self.phones.get(ext)
        if phone is None:
            phone = self.phones[ext] = Phone(ext=ext, name=str(data.get("name", f"Collector {ext}")))
        was_online = phone.online
        if "online" in data:
            phone.online = bool(data["online"])
        if "name" in data:
            phone.name = str(data["name"])
        phone.far_end = FarEnd.from_json(data, phone.far_end)
        if phone.online != was_online:
            self._endpoint_changed(ext)
            name = f"PJSIP/{ext}"
            self._publish(
                "DeviceStateChanged",
                {"device_state": {"name": name, "state": self.device_state(ext)}},
                [f"deviceState:{name}", f"endpoint:{name}"],
            )
        return {"ext": ext, "name": phone.name, "online": phone.online, **phone.far_end.to_json()}

    def set_script(self, number: str, data: JSON) -> JSON:
        self.scripts[number] = FarEnd.from_json(data)
        return {"number": number, **self.scripts[number].to_json()}

    # ---- inbound ---------------------------------------------------------------------------------------

    def inbound(self, *, caller: str, exten: str, app: str, hangup_after: float | None) -> JSON:
        """A trunk call hitting `exten => _X.,n,Stasis(collect,inbound,${EXTEN})`."""
        if self._lines_busy() >= self.lines:
            return {"channel_id": None, "stasis": "CONGESTION"}
        channel = Channel(
            id=self._unique_id(),
            name=self._channel_name(f"PJSIP/{self.trunk}"),
            kind="trunk",
            endpoint=f"PJSIP/{self.trunk}",
            dialstring="",
            state="Ring",
            caller_name="",
            caller_number=caller,
            context="from-trunk",
            exten=exten,
            created=self.clock.now(),
            uses_line=True,
            priority=1,
        )
        self.channels[channel.id] = channel
        self._endpoint_changed(self.trunk)
        self._channel_event("ChannelCreated", channel)
        channel.priority = 2
        channel.app_name, channel.app_data = "Stasis", f"{app},inbound,{exten}"
        self._channel_event("ChannelDialplan", channel, dialplan_app="Stasis", dialplan_app_data=channel.app_data)
        registered = self.apps.get(app)
        if registered is None or registered.queue is None:
            # STASISSTATUS=FAILED: the dialplan's fallback takes the call; the simulator just ends it.
            channel.app_name, channel.app_data = "", ""
            self._channel_event("ChannelVarset", channel, variable="STASISSTATUS", value="FAILED")
            self._destroy(channel, cause=16, by_ari=False, request=True)
            return {"channel_id": channel.id, "stasis": "FAILED"}
        self._enter_stasis(channel, app, ["inbound", exten])
        if hangup_after is not None:
            self._spawn(channel, self._caller_hangs_up(channel, hangup_after))
        return {"channel_id": channel.id, "stasis": "STARTED"}

    async def _caller_hangs_up(self, channel: Channel, after: float) -> None:
        await self.clock.sleep(after)
        if not channel.gone:
            self.far_end_hangup(channel.id, cause=16 if channel.state == "Up" else 127)

    # ---- test view -------------------------------------------------------------------------------------

    def state(self) -> JSON:
        return {
            "now": self.clock.stamp(),
            "speed": self.clock.speed,
            "lines": {"total": self.lines, "busy": self._lines_busy()},
            "channels": [
                {
                    **self.channel_json(c),
                    "kind": c.kind,
                    "bridge_id": c.bridge_id,
                    "stasis_app": c.stasis_app,
                    "uses_line": c.uses_line,
                    "snoop_of": c.snoop_of,
                }
                for c in self.channels.values()
            ],
            "bridges": [self.bridge_json(b) for b in self.bridges.values()],
            "live_recordings": [r.to_json() for r in self.live.values()],
            "stored_recordings": [
                {"name": r.name, "format": r.format, "duration": r.duration} for r in self.stored.values()
            ],
            "apps": {
                a.name: {
                    "connected": a.queue is not None,
                    "subscribe_all": a.subscribe_all,
                    "subscriptions": sorted(a.subscriptions),
                }
                for a in self.apps.values()
            },
            "phones": {
                p.ext: {"online": p.online, "name": p.name, **p.far_end.to_json()} for p in self.phones.values()
            },
            "scripts": {n: s.to_json() for n, s in self.scripts.items()},
            "trunk_dials": list(self.trunk_dials),
        }


def _loop_running() -> bool:
    with contextlib.suppress(RuntimeError):
        asyncio.get_running_loop()
        return True
    return False


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)
