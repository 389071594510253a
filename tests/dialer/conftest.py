"""Dialer fixtures: the ARI simulator on a free loopback port and a connected AriClient (real aioari)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

import aiohttp
import pytest
from django.core.cache import cache

from dialer.ari import AriClient
from dialer.simulator.engine import Engine
from dialer.simulator.server import SimulatorServer
from realtime import commands

# Credentials with characters that break an unescaped query string: every test exercises NOTES defect 4.
ARI_USER = "dialer"
ARI_PASSWORD = "p@ss:w/rd+&=#%"
PHONES = ["8001", "8002", "8003", "8004"]
LINES = 3
SPEED = 10.0  # simulated seconds per real second


@pytest.fixture(scope="session")
def simulator():
    engine = Engine(phones=PHONES, lines=LINES, trunk="trunk", speed=SPEED, user=ARI_USER, password=ARI_PASSWORD)
    server = SimulatorServer(engine)
    server.start()
    yield server
    server.stop()


class SimControl:
    """The simulator's /_sim/ control API (tests only: the dialer never uses it)."""

    def __init__(self, base_url: str) -> None:
        self.base = base_url.rstrip("/")

    async def _call(self, method: str, path: str, json: dict | None = None):
        async with aiohttp.ClientSession() as session, session.request(method, self.base + path, json=json) as resp:
            assert resp.status < 400, await resp.text()
            return await resp.json() if resp.status != 204 else None

    async def reset(self):
        return await self._call("POST", "/_sim/reset")

    async def state(self):
        return await self._call("GET", "/_sim/state")

    async def script(self, number: str, **behaviour):
        return await self._call("POST", "/_sim/script", {"number": number, **behaviour})

    async def phone(self, ext: str, **settings):
        return await self._call("POST", f"/_sim/phones/{ext}", settings)

    async def inbound(self, caller: str, exten: str, **extra):
        return await self._call("POST", "/_sim/inbound", {"caller": caller, "exten": exten, **extra})

    async def far_hangup(self, channel_id: str, cause: int = 16):
        return await self._call("POST", f"/_sim/channels/{channel_id}/hangup", {"cause": cause})

    async def drop_websocket(self):
        return await self._call("POST", "/_sim/drop-websocket")

    async def quirks(self, **values):
        return await self._call("POST", "/_sim/quirks", values)

    async def restart(self):
        return await self._call("POST", "/_sim/restart")


class Recorder:
    """Collects events in arrival order; `wait_for` blocks until one matches."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self._changed = asyncio.Event()

    async def __call__(self, event: dict) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 5.0) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no matching event; got {[e['type'] for e in self.events]}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=remaining)

    async def wait_type(self, event_type: str, channel_id: str | None = None, timeout: float = 5.0, **fields) -> dict:
        def match(event: dict) -> bool:
            if event["type"] != event_type:
                return False
            if channel_id is not None and about(event) != channel_id:
                return False
            return all(event.get(k) == v for k, v in fields.items())

        return await self.wait_for(match, timeout)

    def about_channel(self, channel_id: str) -> list[dict]:
        return [e for e in self.events if about(e) == channel_id]

    def types_for(self, channel_id: str) -> list[str]:
        return [e["type"] if e["type"] != "Dial" else f"Dial:{e['dialstatus']}" for e in self.about_channel(channel_id)]


def about(event: dict) -> str | None:
    """The channel an event is about (the dialled peer for Dial)."""
    for key in ("peer", "channel"):
        if isinstance(event.get(key), dict):
            return event[key]["id"]
    return None


@pytest.fixture
async def sim(simulator):
    control = SimControl(simulator.url)
    await control.reset()
    return control


@pytest.fixture
def recorder():
    return Recorder()


@pytest.fixture
async def ari(simulator, sim, recorder):
    client = AriClient(
        url=simulator.url,
        user=ARI_USER,
        password=ARI_PASSWORD,
        app="collect",
        on_event=recorder,
        backoff_initial_s=0.05,
        backoff_max_s=0.5,
    )
    await client.connect()
    runner = asyncio.create_task(client.run_events())
    await asyncio.wait_for(client.connected.wait(), timeout=5)
    yield client
    await client.close()
    await asyncio.wait_for(runner, timeout=5)


@pytest.fixture
def sent(monkeypatch):
    """The commands the web side sends to the dialer (realtime.commands), recorded instead of sent."""
    messages: list[dict] = []
    monkeypatch.setattr(commands, "_send", messages.append)
    return messages


@pytest.fixture
def dialer_up():
    """The dialer's heartbeat says it is connected to Asterisk, as the dial and listen views require."""
    cache.set("dialer:health", {"ari_connected": True}, 30)
    yield
    cache.delete("dialer:health")
