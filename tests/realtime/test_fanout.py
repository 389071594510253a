from __future__ import annotations

import asyncio
import json

import pytest
from channels.db import database_sync_to_async

from cases.actions.stats import daily_stats_bump
from realtime import groups
from realtime.fanout import broadcast_join, broadcast_leave, local_members


class Layer:
    """A channel layer with one queue per channel and groups as sets: only what realtime.fanout calls."""

    def __init__(self):
        self.queues: dict[str, asyncio.Queue] = {}
        self.groups: dict[str, set[str]] = {}

    async def new_channel(self):
        name = f"specific.test!{len(self.queues)}"
        self.queues[name] = asyncio.Queue()
        return name

    async def group_add(self, group, channel):
        self.groups.setdefault(group, set()).add(channel)

    async def group_discard(self, group, channel):
        self.groups.get(group, set()).discard(channel)

    async def group_send(self, group, message):
        for channel in self.groups.get(group, ()):
            self.queues[channel].put_nowait(dict(message))

    async def receive(self, channel):
        return await self.queues[channel].get()


class Socket:
    def __init__(self):
        self.frames: list[str] = []

    async def send_broadcast(self, frame, messages):
        self.frames.append(frame)


def _bump(n):
    return {"type": "dashboard.counter_changed", "day": "2026-12-06", "collector_id": 7, "deltas": {"calls_made": n}}


async def _settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_fanout_joins_the_layer_group_once_for_all_sockets_of_the_process():
    # given
    layer, a, b = Layer(), Socket(), Socket()
    # when
    await broadcast_join(layer, "dashboard.all", a)
    await broadcast_join(layer, "dashboard.all", b)
    # then
    assert len(layer.groups["dashboard.all"]) == 1
    assert local_members(layer, "dashboard.all") == 2
    await broadcast_leave(layer, "dashboard.all", a)
    await broadcast_leave(layer, "dashboard.all", b)


async def test_fanout_encodes_an_event_once_and_writes_the_same_frame_to_every_socket():
    # given
    layer, a, b = Layer(), Socket(), Socket()
    await broadcast_join(layer, "dashboard.all", a)
    await broadcast_join(layer, "dashboard.all", b)
    # when
    await layer.group_send("dashboard.all", _bump(1))
    await _settle()
    # then
    assert a.frames == b.frames == [json.dumps(_bump(1))]
    assert a.frames[0] is b.frames[0]
    await broadcast_leave(layer, "dashboard.all", a)
    await broadcast_leave(layer, "dashboard.all", b)


async def test_fanout_writes_a_burst_as_one_batch_frame_in_order():
    # given: three events waiting before the process gets to write any of them
    layer, socket = Layer(), Socket()
    await broadcast_join(layer, "dashboard.all", socket)
    for n in (1, 2, 3):
        await layer.group_send("dashboard.all", _bump(n))
    # when
    await _settle()
    # then
    assert [json.loads(f) for f in socket.frames] == [
        {"type": "realtime.batch", "messages": [_bump(1), _bump(2), _bump(3)]}]
    await broadcast_leave(layer, "dashboard.all", socket)


async def test_fanout_leaves_the_layer_group_with_its_last_socket():
    # given
    layer, a, b = Layer(), Socket(), Socket()
    await broadcast_join(layer, "dashboard.all", a)
    await broadcast_join(layer, "dashboard.all", b)
    # when
    await broadcast_leave(layer, "dashboard.all", a)
    still = set(layer.groups["dashboard.all"])
    await broadcast_leave(layer, "dashboard.all", b)
    # then
    assert len(still) == 1
    assert layer.groups["dashboard.all"] == set()
    assert local_members(layer, "dashboard.all") == 0


def test_only_dashboard_and_lines_groups_are_broadcast():
    assert groups.is_broadcast(groups.dashboard_all())
    assert groups.is_broadcast(groups.dashboard_branch(3))
    assert groups.is_broadcast(groups.lines())
    assert not groups.is_broadcast(groups.user(3))
    assert not groups.is_broadcast(groups.case(3))


async def _layer_members(layer, group):
    """Members of `group` in the configured layer: in-memory (tests) or channels-redis (CI)."""
    if hasattr(layer, "_group_key"):
        return await layer.connection(layer.consistent_hash(group)).zcard(layer._group_key(group))
    return len(layer.groups.get(group, {}))


@pytest.mark.django_db(transaction=True)
async def test_dashboard_sockets_share_one_layer_member_and_all_receive_each_event(fresh_layer, ws_connect, manager,
                                                                                collector):
    # given: two dashboards open in this process
    first = await ws_connect(manager, "/ws/live/?topics=dashboard&after=0")
    second = await ws_connect(manager, "/ws/live/?topics=dashboard&after=0")
    for ws in (first, second):
        assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"
    # when
    await database_sync_to_async(daily_stats_bump)(collector_id=collector.pk, calls_made=1)
    # then
    assert await _layer_members(fresh_layer, groups.dashboard_all()) == 1
    for ws in (first, second):
        message = await ws.receive_json_from(timeout=3)
        assert (message["type"], message["collector_id"], message["deltas"]) == (
            "dashboard.counter_changed", collector.pk, {"calls_made": 1})
    await first.disconnect()
    await second.disconnect()
    assert await _layer_members(fresh_layer, groups.dashboard_all()) == 0


async def test_fanout_gathers_events_following_a_frame_within_the_interval(monkeypatch):
    # given: a frame just written
    monkeypatch.setattr("realtime.fanout.FRAME_INTERVAL", 0.05)
    layer, socket = Layer(), Socket()
    await broadcast_join(layer, "dashboard.all", socket)
    await layer.group_send("dashboard.all", _bump(1))
    await _settle()
    # when: two more follow at once, one after the other
    await layer.group_send("dashboard.all", _bump(2))
    await _settle()
    await layer.group_send("dashboard.all", _bump(3))
    await asyncio.sleep(0.1)
    # then: the first went alone, the other two together
    assert [json.loads(f) for f in socket.frames] == [
        _bump(1), {"type": "realtime.batch", "messages": [_bump(2), _bump(3)]}]
    await broadcast_leave(layer, "dashboard.all", socket)


@pytest.mark.django_db(transaction=True)
async def test_a_dashboard_event_arriving_before_the_socket_is_accepted_follows_the_accept(fresh_layer, ws_connect,
                                                                                          manager, monkeypatch):
    # given: an event reaches the process between the socket joining the dashboard group and its accept
    import realtime.consumers.base as base

    joined = base.broadcast_join
    event = _bump(4)

    async def join_then_event(layer, name, subscriber):
        await joined(layer, name, subscriber)
        await subscriber.send_broadcast(json.dumps(event), [event])

    monkeypatch.setattr(base, "broadcast_join", join_then_event)
    # when
    ws = await ws_connect(manager, "/ws/live/?topics=dashboard&after=0")
    # then: the handshake completes first, then the event, then the replay marker
    assert await ws.receive_json_from(timeout=3) == event
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"
    await ws.disconnect()
