"""Typed realtime events: frozen dataclasses carrying ids and primitives, plus the type registry.

An event becomes a channel-layer message through `to_message()` (only msgpack-safe primitives, since
channels-redis serializes with msgpack) and comes back through `from_message()`. The consumer handler of
an event is its `type` with dots turned into underscores (`reminder.due` → `reminder_due`).

Must not import models, the ORM or anything of `cases`: events are built by actions from plain values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Self, TypeVar

# Keys a stored event's message carries besides its fields: the outbox row id (the sequence number the
# browser remembers to catch up from) and whether it was replayed on reconnect.
EVENT_ID_KEY = "event_id"
REPLAYED_KEY = "replayed"

Primitive = None | bool | int | float | str | list["Primitive"] | dict[str, "Primitive"]

EVENT_TYPES: dict[str, type[Event]] = {}

E = TypeVar("E", bound="Event")


def handler_name(event_type: str) -> str:
    """The consumer method that handles `event_type` (the channels convention)."""
    return event_type.replace(".", "_")


def register(cls: type[E]) -> type[E]:
    """Class decorator: add an event class to EVENT_TYPES under its `type`."""
    event_type = cls.__dict__.get("type")
    if not isinstance(event_type, str) or "." not in event_type:
        raise TypeError(f"{cls.__name__} needs a class-level type '<area>.<snake_past_tense>'")
    existing = EVENT_TYPES.get(event_type)
    if existing is not None and existing.__qualname__ != cls.__qualname__:
        raise TypeError(f"event type {event_type!r} is already registered by {existing.__name__}")
    EVENT_TYPES[event_type] = cls
    return cls


def _primitive(value: object, where: str) -> Primitive:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_primitive(item, where) for item in value]
    if isinstance(value, dict):
        out: dict[str, Primitive] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: dict keys must be str, got {type(key).__name__}")
            out[key] = _primitive(item, where)
        return out
    raise TypeError(f"{where}: {type(value).__name__} is not a primitive; events carry ids and primitives only")


def _thaw(value: object) -> object:
    """Lists from the wire become tuples again, so events stay hashable-ish and compare equal."""
    if isinstance(value, list):
        return tuple(_thaw(item) for item in value)
    return value


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of every realtime event. Subclasses set `type` and declare primitive fields."""

    type: ClassVar[str]

    def to_message(self) -> dict[str, Primitive]:
        message: dict[str, Primitive] = {"type": self.type}
        for field in fields(self):
            message[field.name] = _primitive(getattr(self, field.name), f"{self.type}.{field.name}")
        return message

    # Self, not `type[E]`: inside the class body `type` is the ClassVar above, not the builtin.
    @classmethod
    def from_message(cls, message: dict[str, object]) -> Self:
        if message.get("type") != cls.type:
            raise ValueError(f"message of type {message.get('type')!r} is not a {cls.type}")
        values = {f.name: _thaw(message[f.name]) for f in fields(cls) if f.name in message}
        return cls(**values)


def event_from_message(message: dict[str, object]) -> Event:
    """The typed event of any registered message (KeyError for an unknown type)."""
    return EVENT_TYPES[str(message["type"])].from_message(message)


# --- Reminders (C11, P2, P3) -------------------------------------------------------------------------

@register
@dataclass(frozen=True, kw_only=True)
class ReminderDue(Event):
    """A reminder fell due for the recipient. Stored (UserEvent) before it is sent."""

    type: ClassVar[str] = "reminder.due"
    reminder_id: int
    case_id: int
    case_no: str
    debtor_name: str
    kind: str  # ReminderKind value
    kind_label: str
    text: str
    due_at: str  # ISO-8601 UTC
    unread_count: int  # the recipient's unread reminders including this one


@register
@dataclass(frozen=True, kw_only=True)
class ReminderRead(Event):
    """The recipient marked reminders read (in some tab): the other tabs follow."""

    type: ClassVar[str] = "reminder.read"
    reminder_ids: tuple[int, ...] = ()
    all: bool = False
    unread_count: int


@register
@dataclass(frozen=True, kw_only=True)
class ReminderResolved(Event):
    """The reason of the recipient's reminders went away (retained, returned, called, visited, settled, promise
    kept): they no longer count as unread. Stored."""

    type: ClassVar[str] = "reminder.resolved"
    reminder_ids: tuple[int, ...] = ()
    unread_count: int


@register
@dataclass(frozen=True, kw_only=True)
class ReminderDigest(Event):
    """Once a day: the recipient's open unread reminders counted by kind ("首次电话超期 5"). Stored."""

    type: ClassVar[str] = "reminder.digest"
    day: str  # ISO date, local
    lines: tuple[str, ...] = ()
    total: int


# --- Managers' live dashboard (M7) -------------------------------------------------------------------

@register
@dataclass(frozen=True, kw_only=True)
class DashboardCounterChanged(Event):
    """Today's counters of one collector moved by `deltas` (counter name → increment).

    Deltas, not totals: concurrent bumps commute, so pages stay right whatever order commits land in.
    Money deltas travel as decimal strings in `amount_deltas`.
    """

    type: ClassVar[str] = "dashboard.counter_changed"
    day: str  # ISO date, Asia/Shanghai
    collector_id: int
    branch_id: int | None = None
    department_id: int | None = None
    deltas: dict[str, int]
    amount_deltas: dict[str, str] | None = None


# --- Assignment (C3, C4) -----------------------------------------------------------------------------

@register
@dataclass(frozen=True, kw_only=True)
class CaseAssigned(Event):
    """Cases changed hands: `direction` "in" tells the receiving collector (您有 N 件新分配的委案), "out" the
    collector they were taken from (moves, swaps, hand-overs). Stored (UserEvent) before it is sent.

    `case_ids` holds at most the first CASE_IDS_CAP ids (a morning's distribution moves thousands); `count`
    is the full number.
    """

    type: ClassVar[str] = "case.assigned"
    direction: str  # "in" | "out" | "owner" (内勤调配: the owner clerk of the cases changed)
    case_ids: tuple[int, ...] = ()
    count: int
    collector_id: int  # who holds the cases now (the recipient of an "in" event)
    from_collector_id: int | None = None  # who held them before, when one collector did
    by_name: str  # the clerk or manager who made the change
    kind: str  # AssignmentKind value
    kind_label: str
    text: str  # the Chinese line the toast shows
    reason: str = ""


CASE_IDS_CAP = 20


# Other areas' events live in modules of their own, registered in EVENT_TYPES like the ones above; they are
# imported here so the registry is complete wherever events are used (consumers dispatch by it).
from realtime import events_access as _events_access  # noqa: E402, F401
from realtime import events_calls as _events_calls  # noqa: E402, F401
from realtime import events_chat as _events_chat  # noqa: E402, F401
from realtime import events_money as _events_money  # noqa: E402, F401
from realtime import events_progressive as _events_progressive  # noqa: E402, F401
from realtime import events_worklist as _events_worklist  # noqa: E402, F401
