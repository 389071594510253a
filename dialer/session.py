"""CallSession: the state of one call, driven by ARI events. Pure: no I/O, no Django, no aioari.

Outbound (click-to-call, P6): the collector's phone is rung first (originate), then the customer over a
trunk line (channels/create + dial), then both are bridged and recorded:

    collector_ringing → collector_answered → customer_dialling → customer_ringing → connected → ended

Inbound: a trunk call enters Stasis ringing; the dialer rings the owning collector (or a fallback one);
a collector who does not answer sends the call back to `inbound_ringing` so the next one can be tried:

    inbound_ringing ⇄ routed → connected → ended

`apply(event)` takes a raw ARI event dict and returns a `Transition` when the phase changes, else None.
Phases only move forward, so duplicated events (overlapping subscriptions) and late or out-of-order
events (Dial RINGING after ANSWER, StasisEnd after ChannelDestroyed) change nothing. A `Transition`
lists the channels the dialer must hang up (the other leg when one leg ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

JSON = dict[str, Any]


class Direction(StrEnum):
    OUTBOUND = "outbound"
    INBOUND = "inbound"


class Phase(StrEnum):
    COLLECTOR_RINGING = "collector_ringing"
    COLLECTOR_ANSWERED = "collector_answered"
    CUSTOMER_DIALLING = "customer_dialling"
    CUSTOMER_RINGING = "customer_ringing"
    INBOUND_RINGING = "inbound_ringing"
    ROUTED = "routed"
    CONNECTED = "connected"
    ENDED = "ended"


class EndCause(StrEnum):
    """Why a call ended (stored as the call record's hangup cause; labels below are for the UI)."""

    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"
    LINES_BUSY = "lines_busy"
    COLLECTOR_NO_ANSWER = "collector_no_answer"
    COLLECTOR_BUSY = "collector_busy"
    COLLECTOR_UNAVAILABLE = "collector_unavailable"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    FAILED = "failed"
    LOST = "lost"
    MISSED = "missed"


END_CAUSE_LABELS: dict[EndCause, str] = {
    EndCause.COMPLETED: "通话结束",
    EndCause.BUSY: "对方忙",
    EndCause.NO_ANSWER: "无人接听",
    EndCause.UNREACHABLE: "无法接通",
    EndCause.LINES_BUSY: "外线全忙",
    EndCause.COLLECTOR_NO_ANSWER: "业务员未接听",
    EndCause.COLLECTOR_BUSY: "业务员话机忙",
    EndCause.COLLECTOR_UNAVAILABLE: "业务员话机不在线",
    EndCause.CANCELLED: "接通前已挂断",
    EndCause.ABANDONED: "来电方接通前挂断",
    EndCause.FAILED: "呼叫失败",
    EndCause.LOST: "呼叫系统重启或中断，通话已断开",
    EndCause.MISSED: "未接来电（无空闲业务员接听）",
}

_OUTBOUND_ORDER = {
    Phase.COLLECTOR_RINGING: 0,
    Phase.COLLECTOR_ANSWERED: 1,
    Phase.CUSTOMER_DIALLING: 2,
    Phase.CUSTOMER_RINGING: 3,
    Phase.CONNECTED: 4,
    Phase.ENDED: 5,
}
_INBOUND_ORDER = {Phase.INBOUND_RINGING: 0, Phase.ROUTED: 1, Phase.CONNECTED: 2, Phase.ENDED: 3}

# Dial statuses that end a dial attempt, as causes for the customer leg and the collector leg.
_CUSTOMER_DIAL_FAILURES = {
    "BUSY": EndCause.BUSY,
    "NOANSWER": EndCause.NO_ANSWER,
    "CHANUNAVAIL": EndCause.UNREACHABLE,
    "CONGESTION": EndCause.LINES_BUSY,
}
_COLLECTOR_DIAL_FAILURES = {
    "BUSY": EndCause.COLLECTOR_BUSY,
    "NOANSWER": EndCause.COLLECTOR_NO_ANSWER,
    "CHANUNAVAIL": EndCause.COLLECTOR_UNAVAILABLE,
    "CONGESTION": EndCause.COLLECTOR_UNAVAILABLE,
}
_HANGUP_EVENTS = {"ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"}

COLLECTOR = "collector"
CUSTOMER = "customer"


def parse_ari_time(value: str) -> datetime:
    """Asterisk's "2026-11-28T15:11:43.779+0800" as an aware datetime."""
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%f%z")


def customer_cause(code: int | None) -> EndCause:
    """Q.850 cause of a customer leg that ended before answer."""
    if code in (17, 21):
        return EndCause.BUSY
    if code in (18, 19, 16, 31):
        return EndCause.NO_ANSWER
    if code in (34, 42):
        return EndCause.LINES_BUSY
    if code in (1, 3, 20, 22, 27, 28, 38):
        return EndCause.UNREACHABLE
    return EndCause.FAILED


def collector_cause(code: int | None) -> EndCause:
    """Q.850 cause of a collector leg that ended before the collector answered."""
    if code in (17, 21):
        return EndCause.COLLECTOR_BUSY
    if code in (18, 19):
        return EndCause.COLLECTOR_NO_ANSWER
    if code == 16:
        return EndCause.CANCELLED
    return EndCause.COLLECTOR_UNAVAILABLE


@dataclass(frozen=True)
class Transition:
    previous: Phase
    phase: Phase
    at: datetime | None
    cause: EndCause | None = None
    hangup: tuple[str, ...] = ()  # channel ids the dialer should hang up now
    leg: str | None = None  # which leg's event caused it: "collector" | "customer"

    @property
    def ended(self) -> bool:
        return self.phase == Phase.ENDED


@dataclass
class CallSession:
    call_uuid: str
    direction: Direction
    phase: Phase
    number: str
    collector_ext: str = ""
    exten: str = ""
    collector_channel_id: str | None = None
    customer_channel_id: str | None = None
    started_at: datetime | None = None
    collector_answered_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    cause: EndCause | None = None
    cause_code: int | None = None
    hangup_by: str | None = None
    call_id: int | None = None  # the domain's call record, set by the dialer once created
    missed_collectors: list[str] = field(default_factory=list)  # inbound: extensions that did not answer
    cancel_requested: bool = False  # the collector (or a drain) hung the call up from our side

    # ---- construction ----------------------------------------------------------------------------------

    @classmethod
    def outbound(
        cls,
        *,
        call_uuid: str,
        collector_channel_id: str,
        collector_ext: str,
        number: str,
        started_at: datetime | None = None,
    ) -> CallSession:
        """Create before `originate` (we choose the channel id), so early events already find the session."""
        return cls(
            call_uuid=call_uuid,
            direction=Direction.OUTBOUND,
            phase=Phase.COLLECTOR_RINGING,
            number=number,
            collector_ext=collector_ext,
            collector_channel_id=collector_channel_id,
            started_at=started_at,
        )

    @classmethod
    def inbound(
        cls, *, call_uuid: str, customer_channel_id: str, number: str, exten: str, started_at: datetime | None = None
    ) -> CallSession:
        """Create on the inbound leg's StasisStart (args ["inbound", exten], state Ring)."""
        return cls(
            call_uuid=call_uuid,
            direction=Direction.INBOUND,
            phase=Phase.INBOUND_RINGING,
            number=number,
            exten=exten,
            customer_channel_id=customer_channel_id,
            started_at=started_at,
        )

    # ---- queries ---------------------------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.phase == Phase.ENDED

    @property
    def answered(self) -> bool:
        """The customer and the collector talked (counts toward the daily answered-calls cap)."""
        return self.connected_at is not None

    @property
    def talk_seconds(self) -> int | None:
        if self.connected_at is None or self.ended_at is None:
            return None
        return max(0, round((self.ended_at - self.connected_at).total_seconds()))

    def channel_ids(self) -> tuple[str, ...]:
        return tuple(c for c in (self.collector_channel_id, self.customer_channel_id) if c)

    def leg_of(self, channel_id: str | None) -> str | None:
        if channel_id is None:
            return None
        if channel_id == self.collector_channel_id:
            return COLLECTOR
        if channel_id == self.customer_channel_id:
            return CUSTOMER
        return None

    def owns(self, channel_id: str | None) -> bool:
        return self.leg_of(channel_id) is not None

    # ---- commands from the dialer ----------------------------------------------------------------------

    def customer_dialling(self, *, customer_channel_id: str, at: datetime | None = None) -> Transition | None:
        """Outbound: the dialer is about to create+dial the customer leg (call before the request)."""
        if self.direction != Direction.OUTBOUND or self.phase != Phase.COLLECTOR_ANSWERED:
            return None
        self.customer_channel_id = customer_channel_id
        return self._move(Phase.CUSTOMER_DIALLING, at)

    def route_to_collector(
        self, *, collector_channel_id: str, collector_ext: str, at: datetime | None = None
    ) -> Transition | None:
        """Inbound: the dialer is about to create+dial this collector's phone (call before the request)."""
        if self.direction != Direction.INBOUND or self.phase != Phase.INBOUND_RINGING:
            return None
        self.collector_channel_id = collector_channel_id
        self.collector_ext = collector_ext
        return self._move(Phase.ROUTED, at)

    def cancel(self) -> None:
        """The dialer is about to hang the call up at the collector's request (call before the requests)."""
        self.cancel_requested = True

    def fail(self, cause: EndCause, at: datetime | None = None) -> Transition | None:
        """End the call for a reason found outside ARI events (ARI error, lines busy, no collector free)."""
        if self.ended:
            return None
        return self._end(cause, at, hangup=self.channel_ids())

    def lost(self, at: datetime | None = None) -> Transition | None:
        """The legs vanished while we were not listening (Asterisk restart, events lost in a gap)."""
        return self.fail(EndCause.LOST, at)

    def resync(self, channels: dict[str, JSON | None], at: datetime | None = None) -> Transition | None:
        """Reconcile with GET /channels/{id} results after a reconnect (None = channel gone).

        A gone leg ends the call as LOST (its real end was never seen); live legs advance the phase from
        their current state, catching up on answers that happened during the gap.
        """
        if self.ended:
            return None
        legs = self.channel_ids()
        if not legs or any(channels.get(c) is None for c in legs):
            alive = tuple(c for c in legs if channels.get(c) is not None)
            return self._end(EndCause.LOST, at, hangup=alive)
        transition = None
        for channel_id in legs:
            channel = channels[channel_id]
            assert channel is not None
            if channel.get("state") == "Up":
                transition = self._answered(self.leg_of(channel_id), at, in_stasis=True) or transition
        return transition

    # ---- events ----------------------------------------------------------------------------------------

    def apply(self, event: JSON) -> Transition | None:
        if self.ended:
            return None
        event_type = event.get("type")
        at = parse_ari_time(event["timestamp"]) if event.get("timestamp") else None
        if event_type == "Dial":
            peer = event.get("peer") or {}
            return self._dial(self.leg_of(peer.get("id")), str(event.get("dialstatus", "")), at)
        channel = event.get("channel") or {}
        leg = self.leg_of(channel.get("id"))
        if leg is None:
            return None
        if event_type == "StasisStart":
            if channel.get("state") == "Up":
                return self._answered(leg, at, in_stasis=True)
            return None
        if event_type == "ChannelStateChange":
            state = channel.get("state")
            if state == "Up":
                return self._answered(leg, at, in_stasis=False)
            if state == "Ringing" and leg == CUSTOMER and self.direction == Direction.OUTBOUND:
                return self._move(Phase.CUSTOMER_RINGING, at)
            return None
        if event_type in _HANGUP_EVENTS:
            return self._leg_gone(leg, event, at)
        return None

    def _dial(self, leg: str | None, status: str, at: datetime | None) -> Transition | None:
        if leg is None:
            return None
        if status == "RINGING":
            if leg == CUSTOMER and self.direction == Direction.OUTBOUND:
                return self._move(Phase.CUSTOMER_RINGING, at)
            return None
        if status == "ANSWER":
            return self._answered(leg, at, in_stasis=False)
        if leg == CUSTOMER and status in _CUSTOMER_DIAL_FAILURES:
            return self._end(_CUSTOMER_DIAL_FAILURES[status], at, hangup=self._other(leg), leg=leg)
        if leg == COLLECTOR and status in _COLLECTOR_DIAL_FAILURES:
            if self.cancel_requested and self.direction == Direction.OUTBOUND:
                # Real Asterisk ends the dial of a ringing leg we hung up with NOANSWER (never CANCEL).
                return self._end(EndCause.CANCELLED, at, hangup=self._other(leg), leg=leg)
            return self._collector_missed(_COLLECTOR_DIAL_FAILURES[status], at)
        return None  # "" (dial started), CANCEL (our own hangup; ChannelDestroyed follows), PROGRESS...

    def _answered(self, leg: str | None, at: datetime | None, *, in_stasis: bool) -> Transition | None:
        if leg is None:
            return None
        if self.direction == Direction.OUTBOUND:
            if leg == COLLECTOR:
                # The originated leg can be bridged only once it is in Stasis (StasisStart follows the
                # answer): "Up" alone would make addChannel fail with 422.
                if not in_stasis:
                    return None
                transition = self._move(Phase.COLLECTOR_ANSWERED, at)
                if transition is not None:
                    self.collector_answered_at = at
                return transition
            return self._connect(at, leg)
        if leg == COLLECTOR:
            if self.phase != Phase.ROUTED:
                return None
            return self._connect(at, leg)
        return None  # the inbound caller's leg is answered by us, after the collector picks up

    def _connect(self, at: datetime | None, leg: str) -> Transition | None:
        transition = self._move(Phase.CONNECTED, at, leg=leg)
        if transition is not None:
            self.connected_at = at
        return transition

    def _collector_missed(self, cause: EndCause, at: datetime | None) -> Transition | None:
        if self.direction == Direction.OUTBOUND:
            if self.phase != Phase.COLLECTOR_RINGING:
                return None
            return self._end(cause, at, leg=COLLECTOR)
        if self.phase != Phase.ROUTED:
            return None
        # Inbound: back to ringing so the dialer can try the next collector of the fallback group.
        self.missed_collectors.append(self.collector_ext)
        self.collector_channel_id = None
        previous = self.phase
        self.phase = Phase.INBOUND_RINGING
        return Transition(previous=previous, phase=self.phase, at=at, cause=cause, leg=COLLECTOR)

    def _leg_gone(self, leg: str, event: JSON, at: datetime | None) -> Transition | None:
        event_type = event["type"]
        code = event.get("cause") if isinstance(event.get("cause"), int) else None
        if self.phase == Phase.CONNECTED:
            self.hangup_by = leg
            self.cause_code = code if event_type == "ChannelDestroyed" else None
            return self._end(EndCause.COMPLETED, at, hangup=self._other(leg), leg=leg)
        # Before connect we need the real cause: ChannelDestroyed carries it, and so does a hangup request
        # from the far end; an ARI hangup request (soft, cause 32) is ours and its Destroyed follows.
        if event_type == "StasisEnd" or (event_type == "ChannelHangupRequest" and event.get("soft")):
            return None
        if self.direction == Direction.OUTBOUND:
            if self.cancel_requested:
                # We hung it up before the answer: whichever leg's end arrives first, the call was cancelled
                # (the ringing customer's leg would otherwise read as no answer).
                cause = EndCause.CANCELLED
            elif leg == COLLECTOR:
                cause = collector_cause(code) if self.phase == Phase.COLLECTOR_RINGING else EndCause.CANCELLED
            else:
                cause = customer_cause(code)
            self.cause_code = code
            self.hangup_by = leg
            return self._end(cause, at, hangup=self._other(leg), leg=leg)
        if leg == CUSTOMER:
            self.cause_code = code
            self.hangup_by = leg
            return self._end(EndCause.ABANDONED, at, hangup=self._other(leg), leg=leg)
        return self._collector_missed(collector_cause(code) if code != 16 else EndCause.COLLECTOR_NO_ANSWER, at)

    def _other(self, leg: str) -> tuple[str, ...]:
        other = self.customer_channel_id if leg == COLLECTOR else self.collector_channel_id
        return (other,) if other else ()

    def _order(self) -> dict[Phase, int]:
        return _OUTBOUND_ORDER if self.direction == Direction.OUTBOUND else _INBOUND_ORDER

    def _move(self, phase: Phase, at: datetime | None, leg: str | None = None) -> Transition | None:
        order = self._order()
        if phase not in order or order[phase] <= order[self.phase]:
            return None  # duplicate or late event: phases only move forward
        previous = self.phase
        self.phase = phase
        return Transition(previous=previous, phase=phase, at=at, leg=leg)

    def _end(
        self, cause: EndCause, at: datetime | None, *, hangup: tuple[str, ...] = (), leg: str | None = None
    ) -> Transition:
        previous = self.phase
        self.phase = Phase.ENDED
        self.cause = cause
        self.ended_at = at
        return Transition(previous=previous, phase=Phase.ENDED, at=at, cause=cause, hangup=hangup, leg=leg)
