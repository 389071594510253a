from __future__ import annotations

import dataclasses
import typing

import msgpack
import pytest

from realtime import groups
from realtime.consumers.live import LiveConsumer
from realtime.events import EVENT_TYPES, Event, ReminderDue, handler_name, register

SAMPLES = {int: 7, str: "文本", bool: True, float: 1.5}


def _sample(cls: type[Event]) -> Event:
    """An instance of `cls` with a value of the right shape for every field."""
    hints = typing.get_type_hints(cls)
    values = {}
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        origin = typing.get_origin(hint)
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if origin is tuple:
            values[field.name] = (1, 2)
        elif origin is dict or (args and typing.get_origin(args[0]) is dict):
            values[field.name] = {"k": 1} if "int" in str(hint) else {"k": "1.00"}
        elif hint in SAMPLES:
            values[field.name] = SAMPLES[hint]
        elif args and args[0] in SAMPLES:
            values[field.name] = SAMPLES[args[0]]
        else:
            raise AssertionError(f"no sample for {cls.__name__}.{field.name}: {hint}")
    return cls(**values)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_round_trips_through_message_and_msgpack(event_type):
    # given
    event = _sample(EVENT_TYPES[event_type])
    # when: the way channels-redis carries it
    message = msgpack.unpackb(msgpack.packb(event.to_message()), raw=False)
    # then
    assert message["type"] == event_type
    assert EVENT_TYPES[event_type].from_message(message) == event


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_type_has_consumer_handler(event_type):
    # given
    consumer = LiveConsumer()
    # when
    handler = getattr(consumer, handler_name(event_type), None)
    # then
    assert callable(handler)


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_event_type_follows_naming(event_type):
    # given / when
    area, _, name = event_type.partition(".")
    # then
    assert area.isidentifier() and name.isidentifier() and name == name.lower()


def test_event_refuses_non_primitive_values():
    # given
    event = ReminderDue(reminder_id=1, case_id=2, case_no="A", debtor_name="王某", kind="expiry_3",
                        kind_label="3天到期", text="t", due_at=object(), unread_count=1)  # type: ignore[arg-type]
    # when / then
    with pytest.raises(TypeError, match="not a primitive"):
        event.to_message()


def test_register_refuses_duplicate_type():
    # given
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class Impostor(Event):
        type: typing.ClassVar[str] = "reminder.due"

    # when / then
    with pytest.raises(TypeError, match="already registered"):
        register(Impostor)


def test_consumer_has_no_handler_for_unknown_names():
    # given / when / then
    assert getattr(LiveConsumer(), "no_such_event", None) is None


@pytest.mark.parametrize(("name", "expected"), [
    (groups.user(5), "user.5"), (groups.collector(5), "collector.5"), (groups.case(9), "case.9"),
    (groups.chat(3), "chat.3"), (groups.dashboard_all(), "dashboard.all"),
    (groups.dashboard_branch(2), "dashboard.branch.2"), (groups.dashboard_department(4), "dashboard.department.4"),
])
def test_group_names(name, expected):
    # given / when / then
    assert name == expected


@pytest.mark.parametrize("bad", [0, -1, "5", True, None])
def test_group_names_refuse_bad_ids(bad):
    # given / when / then
    with pytest.raises(ValueError):
        groups.user(bad)
