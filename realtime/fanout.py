"""One channel-layer member per process for the groups many sockets of a process watch (dashboards, lines).

Joined socket by socket, a dashboard group costs per socket and per event: a message popped from Redis,
woken and dispatched in that socket's consumer, JSON-encoded and written, so a process with 500 dashboards
open fell seconds behind at 10 events/s (bench/fanout.py). Here a process joins such a group once, through
a channel of its own; each event is encoded once and the same text is written to every local socket of
the group. Frames are coalesced: a lone event goes out at once, but events following it within
FRAME_INTERVAL (or while a frame is being written) go out together in one frame
`{"type": "realtime.batch", "messages": [...]}`, in order: nothing is merged away or dropped.

A socket joins through `broadcast_join` before it accepts (so nothing sent after the handshake is missed)
and leaves through `broadcast_leave`; the group's channel goes when its last local socket does. Messages
that need a per-socket decision (a stored event id to de-duplicate against the replay, a handler of the
consumer's own) are handed to each socket one by one, as before.

Must not import models; the consumers use it, nothing else does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import weakref
from collections.abc import Awaitable
from typing import Any, Protocol

logger = logging.getLogger(__name__)

BATCH_TYPE = "realtime.batch"
# The layer forgets group members after its group expiry (a day for channels-redis) and all of them when
# Redis restarts: the process joins its groups again this often.
REJOIN_SECONDS = 300.0
# At most one frame per group this often: at 10 events/s a socket gets a frame of two events five times a
# second instead of ten frames, half the writes (a socket write, not the encoding, is what costs), and the
# dashboards stay well within their 1 s budget.
FRAME_INTERVAL = 0.2
# Give the event loop back (other sockets, requests, the receiver) every so many writes of one frame.
YIELD_EVERY = 64
RETRY_SECONDS = 1.0

Message = dict[str, Any]


class Subscriber(Protocol):
    def send_broadcast(self, frame: str, messages: list[Message]) -> Awaitable[None]:
        """Write `frame` (the encoded `messages`) to the socket, or handle the messages one by one."""
        ...


def encode(messages: list[Message]) -> str:
    """The one text frame for `messages`: the message itself when alone, else a batch of them in order."""
    if len(messages) == 1:
        return json.dumps(messages[0])
    return json.dumps({"type": BATCH_TYPE, "messages": messages})


class _Group:
    """One group as this process sees it: its channel, its local sockets, what waits to be written."""

    def __init__(self, layer: Any, name: str, channel: str) -> None:
        self.layer = layer
        self.name = name
        self.channel = channel
        self.members: dict[int, Subscriber] = {}
        self.pending: list[Message] = []
        self.ready = asyncio.Event()
        self.tasks = [asyncio.ensure_future(self._receive()), asyncio.ensure_future(self._write()),
                      asyncio.ensure_future(self._rejoin())]

    async def _receive(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # a process edge: Redis restarting must not end the dashboards for good
                logger.exception("receiving for group %s failed; retrying", self.name)
                await asyncio.sleep(RETRY_SECONDS)
                await self._join_layer()
                continue
            self.pending.append(message)
            self.ready.set()

    async def _write(self) -> None:
        loop = asyncio.get_running_loop()
        last = float("-inf")
        while True:
            await self.ready.wait()
            # A lone event goes out at once; one that follows within FRAME_INTERVAL waits for the rest of the
            # interval, and everything that arrived meanwhile goes out with it as one frame.
            wait = last + FRAME_INTERVAL - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.ready.clear()
            messages, self.pending = self.pending, []
            if not messages:
                continue
            last = loop.time()
            frame = encode(messages)
            for count, member in enumerate(list(self.members.values()), start=1):
                try:
                    await member.send_broadcast(frame, messages)
                except Exception:  # a process edge: one broken socket must not starve the others
                    logger.exception("sending group %s to a socket failed", self.name)
                if count % YIELD_EVERY == 0:
                    await asyncio.sleep(0)

    async def _rejoin(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS)
            await self._join_layer()

    async def _join_layer(self) -> None:
        try:
            await self.layer.group_add(self.name, self.channel)
        except Exception:  # a process edge: tried again at the next rejoin
            logger.exception("joining group %s failed", self.name)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(Exception):  # leaving is best effort: the layer expires members anyway
            await self.layer.group_discard(self.name, self.channel)


class _Fanout:
    """The broadcast groups of one channel layer in one event loop."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.groups: dict[str, _Group] = {}
        self.lock = asyncio.Lock()

    async def join(self, name: str, subscriber: Subscriber) -> None:
        async with self.lock:
            group = self.groups.get(name)
            if group is None:
                channel = await self.layer.new_channel()
                await self.layer.group_add(name, channel)
                group = self.groups[name] = _Group(self.layer, name, channel)
            group.members[id(subscriber)] = subscriber

    async def leave(self, name: str, subscriber: Subscriber) -> None:
        async with self.lock:
            group = self.groups.get(name)
            if group is None or group.members.pop(id(subscriber), None) is None or group.members:
                return
            del self.groups[name]
            await group.close()


# Per event loop, per layer: tests run each in a loop of their own and may swap the layer.
_fanouts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Fanout]] = weakref.WeakKeyDictionary()


def _fanout(layer: Any) -> _Fanout:
    by_layer = _fanouts.setdefault(asyncio.get_running_loop(), {})
    fanout = by_layer.get(id(layer))
    if fanout is None or fanout.layer is not layer:
        fanout = by_layer[id(layer)] = _Fanout(layer)
    return fanout


async def broadcast_join(layer: Any, name: str, subscriber: Subscriber) -> None:
    """Deliver group `name` to `subscriber` from now on, through this process's one member of the group."""
    await _fanout(layer).join(name, subscriber)


async def broadcast_leave(layer: Any, name: str, subscriber: Subscriber) -> None:
    await _fanout(layer).leave(name, subscriber)


def local_members(layer: Any, name: str) -> int:
    """How many sockets of this process (in this event loop) receive group `name`."""
    group = _fanout(layer).groups.get(name)
    return len(group.members) if group else 0
