"""Thin wrapper over aioari 0.10.2: the only module of the dialer that talks to Asterisk.

Every aioari defect listed in shared/ari/NOTES.md is handled here:
1. boolean query parameters break yarl → booleans are sent as "true"/"false" (`_params`);
2. `recordings.getStoredFile` decodes the WAV as text → the raw swagger operation, body read as bytes;
3. `Client.run()` returns silently when the socket closes → our own events loop (`run_events`) with
   exponential backoff, one task per event, and a resync (`GET /applications/{app}` plus explicit
   subscriptions) on every connect;
4. the websocket URL is built without escaping → we build it ourselves with percent-encoded credentials;
5. a failed `connect()` leaks its aiohttp session → closed on failure;
6. per-type callbacks get a dict for events with several objects of a type (`Dial`: peer, caller,
   forwarded) → we dispatch the raw event dict and `event_channels()` returns every channel in it.

Operations go through the raw swagger operations (`client.swagger.<resource>.<nickname>`) and return
plain JSON dicts, so callers never see aioari model objects. Must not import Django or the cases app.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import struct
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aioari.client import Client  # type: ignore[import-untyped]
from aiohttp import web_exceptions
from aioswagger11.http_client import ApiKeyAuthenticator, AsynchronousHttpClient  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

JSON = dict[str, Any]
EventHandler = Callable[[JSON], Awaitable[None]]
ResyncHandler = Callable[["AppSnapshot"], Awaitable[None]]

# Event fields that hold a Channel in Asterisk's events.json models.
CHANNEL_FIELDS = ("channel", "peer", "caller", "forwarded", "replace_channel")


class AriError(Exception):
    """Asterisk answered an ARI request with an error status (0: it did not answer in time or at all)."""

    def __init__(self, status: int, message: str, operation: str) -> None:
        super().__init__(f"{operation}: HTTP {status} {message}")
        self.status = status
        self.message = message
        self.operation = operation


class AriNotConnectedError(Exception):
    """The events websocket is down: originating now would ring a phone whose call Asterisk then drops."""

    def __init__(self) -> None:
        super().__init__("呼叫系统未连接（Asterisk 事件通道中断），暂时不能外呼，请稍后再试")


class AriConnectError(Exception):
    """Could not load the ARI api-docs (Asterisk down, wrong URL or wrong credentials)."""


@dataclass(frozen=True)
class AppSnapshot:
    """What Asterisk says the app still owns right after a (re)connect."""

    channel_ids: tuple[str, ...]
    bridge_ids: tuple[str, ...]
    channels: dict[str, JSON] = field(default_factory=dict)  # id → channel JSON for those still alive
    bridges: dict[str, JSON] = field(default_factory=dict)


def event_channels(event: JSON) -> dict[str, JSON]:
    """Every channel carried by an event, by field name (defect 6: `Dial` has peer, caller and forwarded)."""
    return {name: event[name] for name in CHANNEL_FIELDS if isinstance(event.get(name), dict)}


def _params(params: dict[str, Any]) -> dict[str, Any]:
    """Drop None values; booleans become "true"/"false" (defect 1: yarl rejects bool query values)."""
    cleaned: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            cleaned[key] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            cleaned[key] = ",".join(str(v) for v in value)
        else:
            cleaned[key] = value
    return cleaned


# Asterisk answers ARI requests in milliseconds; one that hangs must fail the call step, not stall it for
# aiohttp's default five minutes. sock_read (not total) bounds a stalled read but lets a long recording's
# download run as long as bytes keep arriving.
# How long a created channel may take to enter the app before its dial is given up (D1).
STASIS_WAIT_S = 3.0
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=5, sock_connect=5, sock_read=30)
# On close, wait this long for Asterisk's close frame (aiohttp's default is 10 s), so a stop stays prompt.
WS_TIMEOUT = aiohttp.ClientWSTimeout(ws_close=3)


def _new_http_client(host: str, user: str, password: str) -> AsynchronousHttpClient:
    """aioari's HTTP client with api_key auth and bounded timeouts (a module function so tests can watch
    sessions get closed)."""
    return _BoundedHttpClient(auth=ApiKeyAuthenticator(host, f"{user}:{password}"))


class _BoundedHttpClient(AsynchronousHttpClient):  # type: ignore[misc]
    """aioswagger11 builds its aiohttp session with no way to pass a timeout: build it ourselves."""

    def __init__(self, *, auth: ApiKeyAuthenticator) -> None:
        self.authenticator = auth
        self.websockets: set[aiohttp.ClientWebSocketResponse] = set()
        self.session = aiohttp.ClientSession(timeout=HTTP_TIMEOUT)


def events_url(base_url: str, *, app: str, user: str, password: str, subscribe_all: bool = False) -> str:
    """ws://host/ari/events?app=...&api_key=user%3Apass (defect 4: aioari does not escape credentials)."""
    parts = urllib.parse.urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    path = parts.path.rstrip("/") + "/ari/events"
    query = urllib.parse.urlencode(
        {"app": app, "subscribeAll": "true" if subscribe_all else "false", "api_key": f"{user}:{password}"},
        quote_via=urllib.parse.quote,
        safe="",
    )
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, query, ""))


def repair_wav_header(data: bytes) -> bytes:
    """A WAV whose sizes were never written (Asterisk killed while recording: RIFF and data sizes 0) gets the
    sizes of the bytes actually there, so players and our own checks read the whole partial recording (D7).
    Anything that is not a RIFF/WAVE file, or is already consistent, is returned unchanged."""
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if chunk == b"data":
            actual = len(data) - pos - 8
            if size == actual and struct.unpack_from("<I", data, 4)[0] == len(data) - 8:
                return data
            if size == 0 or size > actual or struct.unpack_from("<I", data, 4)[0] in (0, 0xFFFFFFFF):
                fixed = bytearray(data)
                struct.pack_into("<I", fixed, pos + 4, actual)
                struct.pack_into("<I", fixed, 4, len(data) - 8)
                return bytes(fixed)
            return data
        pos += 8 + size + (size & 1)
    return data


class AriClient:
    """One Stasis app's connection to Asterisk: REST operations plus a self-healing events websocket.

    `on_event(event)` runs as its own task for each event (duplicates from overlapping subscriptions are
    dropped); `on_resync(snapshot)` runs after each (re)connect, before `connected` is set.
    """

    def __init__(
        self,
        *,
        url: str,
        user: str,
        password: str,
        app: str,
        on_event: EventHandler | None = None,
        on_resync: ResyncHandler | None = None,
        subscribe_all: bool = False,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        dedupe_window: int = 2048,
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.user = user
        self.password = password
        self.app = app
        self.on_event = on_event
        self.on_resync = on_resync
        self.subscribe_all = subscribe_all
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.connected = asyncio.Event()
        self.connects = 0  # completed websocket connections, for health and tests
        # When the events websocket last went down (epoch s): a crashed Asterisk's calls ended about then (D7).
        self.disconnected_at: float | None = None
        self._client: Any = None
        self._http: Any = None
        self._subscriptions: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._dedupe_window = dedupe_window
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stopping = asyncio.Event()
        # channels/create answers before the channel is in the app: dial waits for its StasisStart (D1)
        self._stasis_waiters: dict[str, asyncio.Future[None]] = {}

    # ---- connection ------------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Load the api-docs (aioari's swagger client). Raises AriConnectError; never leaks the session."""
        host = urllib.parse.urlsplit(self.url).hostname or ""
        http = _new_http_client(host, self.user, self.password)
        client = Client(self.url, http)
        try:
            await client.init()
        except Exception as exc:  # noqa: BLE001 - any failure here means "not connected"; close first (defect 5)
            await http.close()
            raise AriConnectError(f"cannot load ARI api-docs from {self.url}: {exc!r}") from exc
        self._client, self._http = client, http

    async def connect_with_backoff(self) -> None:
        """connect(), retrying with exponential backoff until it works or close() is called."""
        delay = self.backoff_initial_s
        while not self._stopping.is_set():
            try:
                await self.connect()
                return
            except AriConnectError as exc:
                logger.warning("ARI connect failed, retrying in %.1fs: %s", delay, exc)
                await self._sleep_or_stop(delay)
                delay = min(self.backoff_max_s, delay * 2)
        raise AriConnectError("closed before connecting")

    async def close(self) -> None:
        """Stop the events loop, wait for running event handlers briefly, close the HTTP session."""
        self._stopping.set()
        self.connected.clear()
        if self._ws is not None:
            await self._ws.close()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=5)
            for task in pending:
                task.cancel()
        if self._http is not None:
            await self._http.close()
            self._http = None
            self._client = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise AriConnectError("not connected: call connect() first")
        session: aiohttp.ClientSession = self._http.session
        return session

    # ---- events loop (defect 3) ------------------------------------------------------------------------

    async def run_events(self) -> None:
        """Keep the events websocket open until close(): reconnect with backoff, resync on every connect."""
        delay = self.backoff_initial_s
        while not self._stopping.is_set():
            replaced = False
            try:
                url = events_url(
                    self.url, app=self.app, user=self.user, password=self.password, subscribe_all=self.subscribe_all
                )
                async with self.session.ws_connect(url, heartbeat=30, timeout=WS_TIMEOUT) as ws:
                    self._ws = ws
                    await self._resync()
                    self.connects += 1
                    self.connected.set()
                    delay = self.backoff_initial_s
                    logger.info("ARI events connected app=%s", self.app)
                    replaced = await self._read(ws)
            except (TimeoutError, aiohttp.ClientError, OSError, AriError) as exc:
                logger.warning("ARI events connection failed app=%s: %r", self.app, exc)
            finally:
                if self.connected.is_set():
                    self.disconnected_at = time.time()
                self._ws = None
                self.connected.clear()
            if self._stopping.is_set():
                break
            if replaced:
                # Another process took the app name over: do not fight it in a tight loop.
                delay = self.backoff_max_s
            logger.warning("ARI events websocket down app=%s; reconnecting in %.1fs", self.app, delay)
            await self._sleep_or_stop(delay * (0.8 + 0.4 * random.random()))
            delay = min(self.backoff_max_s, delay * 2)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> bool:
        """Dispatch messages until the socket closes; True when Asterisk said ApplicationReplaced."""
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                if message.type == aiohttp.WSMsgType.ERROR:
                    break
                continue
            if message.data in self._seen:
                continue  # overlapping subscriptions deliver identical copies
            self._remember(message.data)
            try:
                event = json.loads(message.data)
            except ValueError:
                logger.error("ARI sent a non-JSON frame: %.200s", message.data)
                continue
            if not isinstance(event, dict) or "type" not in event:
                continue
            if event["type"] == "ApplicationReplaced":
                logger.error("ARI app %s was taken over by another connection", self.app)
                return True
            if event["type"] == "StasisStart":
                waiter = self._stasis_waiters.get(str((event.get("channel") or {}).get("id", "")))
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
            self._dispatch(event)
        return False

    def _remember(self, raw: str) -> None:
        self._seen[raw] = None
        while len(self._seen) > self._dedupe_window:
            self._seen.popitem(last=False)

    def _dispatch(self, event: JSON) -> None:
        if self.on_event is None:
            return
        task = asyncio.get_running_loop().create_task(self._run_handler(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_handler(self, event: JSON) -> None:
        assert self.on_event is not None
        try:
            await self.on_event(event)
        except Exception:  # process edge: one bad event must not stop the dialer
            channels = event_channels(event)
            logger.exception(
                "ARI event handler failed type=%s channel_id=%s",
                event.get("type"),
                ",".join(c.get("id", "") for c in channels.values()),
            )

    async def _resync(self) -> None:
        """After a connect: re-subscribe explicitly (subscribeAll is ignored on reconnect), then snapshot."""
        for source in sorted(self._subscriptions):
            try:
                await self._op("applications", "subscribe", applicationName=self.app, eventSource=source)
            except AriError as exc:
                if exc.status != 422:  # 422: the source is gone (e.g. after an Asterisk restart)
                    raise
                logger.info("ARI subscription source gone app=%s source=%s", self.app, source)
        snapshot = await self.snapshot()
        if self.on_resync is not None:
            await self.on_resync(snapshot)

    async def snapshot(self) -> AppSnapshot:
        app = await self.get_application()
        channels: dict[str, JSON] = {}
        for channel_id in app.get("channel_ids", []):
            channel = await self.get_channel(channel_id)
            if channel is not None:
                channels[channel_id] = channel
        bridges: dict[str, JSON] = {}
        for bridge_id in app.get("bridge_ids", []):
            with contextlib.suppress(AriError):
                bridges[bridge_id] = await self._op("bridges", "get", bridgeId=bridge_id)
        return AppSnapshot(
            channel_ids=tuple(app.get("channel_ids", [])),
            bridge_ids=tuple(app.get("bridge_ids", [])),
            channels=channels,
            bridges=bridges,
        )

    async def _sleep_or_stop(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    # ---- raw operation ---------------------------------------------------------------------------------

    async def _request(self, resource: str, nickname: str, /, **params: Any) -> aiohttp.ClientResponse:
        if self._client is None:
            raise AriConnectError("not connected: call connect() first")
        operation = getattr(getattr(self._client.swagger, resource), nickname)
        try:
            response: aiohttp.ClientResponse = await operation(**_params(params))
        except web_exceptions.HTTPException as exc:
            message = exc.text or ""
            with contextlib.suppress(ValueError, TypeError):
                message = json.loads(message).get("message", message)
            raise AriError(exc.status_code, message, f"{resource}.{nickname}") from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            # No answer at all (HTTP_TIMEOUT, a reset connection): the step fails like a refused one would.
            raise AriError(0, f"Asterisk did not answer: {exc!r}", f"{resource}.{nickname}") from exc
        return response

    async def _op(self, resource: str, nickname: str, /, **params: Any) -> Any:
        response = await self._request(resource, nickname, **params)
        try:
            text = await response.text()
        finally:
            response.release()
        return json.loads(text) if text else None

    # ---- channels --------------------------------------------------------------------------------------

    def _require_connected(self) -> None:
        if not self.connected.is_set():
            raise AriNotConnectedError

    async def originate(
        self,
        *,
        endpoint: str,
        channel_id: str,
        app_args: Iterable[str] = (),
        caller_id: str | None = None,
        timeout_s: int = 30,
    ) -> JSON:
        """POST /channels: ring `endpoint`; it enters Stasis (StasisStart) only once answered (NOTES fact 1)."""
        self._require_connected()
        result: JSON = await self._op(
            "channels",
            "originate",
            endpoint=endpoint,
            app=self.app,
            appArgs=",".join(app_args),
            channelId=channel_id,
            callerId=caller_id,
            timeout=timeout_s,
        )
        return result

    async def create_and_dial(
        self,
        *,
        endpoint: str,
        channel_id: str,
        app_args: Iterable[str] = (),
        timeout_s: int = 30,
        caller_channel_id: str | None = None,
        caller_id: str | None = None,
    ) -> JSON:
        """POST /channels/create, wait for the channel's StasisStart, then /dial (NOTES fact 3).

        Real Asterisk answers `create` before the channel has entered the app, and a dial sent then gets 409
        "Channel not in Stasis application" (D1: 3 of 39 calls). So the dial waits for StasisStart (up to
        STASIS_WAIT_S) and a 409 is retried within the same bound.

        `caller_id` (a number) is what the far end is shown. `channels/create` has no callerId (only originate
        has), and chan_pjsip builds an outgoing INVITE's From from the channel's *connected line*, which a dial
        without a caller channel leaves empty: so CONNECTEDLINE(num) is set on the new channel, with the `i` option
        (no update is sent to a channel not yet called), and CALLERID(num) alike, before the dial.
        """
        self._require_connected()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._stasis_waiters[channel_id] = waiter
        try:
            channel: JSON = await self._op(
                "channels", "create", endpoint=endpoint, app=self.app, appArgs=",".join(app_args),
                channelId=channel_id)
            deadline = asyncio.get_running_loop().time() + STASIS_WAIT_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), timeout=STASIS_WAIT_S)
            shown = False
            while True:
                try:
                    if caller_id and not shown:
                        await self.set_variable(channel_id, "CONNECTEDLINE(num,i)", caller_id)
                        await self.set_variable(channel_id, "CALLERID(num)", caller_id)
                        shown = True
                    await self._op("channels", "dial", channelId=channel_id, caller=caller_channel_id,
                                   timeout=timeout_s)
                    break
                except AriError as exc:
                    if exc.status == 409 and asyncio.get_running_loop().time() < deadline:
                        logger.info("dial before StasisStart, retrying channel_id=%s", channel_id)
                        await asyncio.sleep(0.05)
                        continue
                    await self.hangup_quietly(channel_id)
                    raise
        finally:
            self._stasis_waiters.pop(channel_id, None)
        return channel

    async def set_variable(self, channel_id: str, variable: str, value: str) -> None:
        await self._op("channels", "setChannelVar", channelId=channel_id, variable=variable, value=value)

    async def get_variable(self, channel_id: str, variable: str) -> str | None:
        """A channel variable's value; None when the channel or the variable does not exist."""
        try:
            result: JSON = await self._op("channels", "getChannelVar", channelId=channel_id, variable=variable)
        except AriError as exc:
            if exc.status == 404:
                return None
            raise
        return str(result.get("value", ""))

    async def answer(self, channel_id: str) -> None:
        await self._op("channels", "answer", channelId=channel_id)

    async def ring(self, channel_id: str) -> None:
        await self._op("channels", "ring", channelId=channel_id)

    async def hangup_quietly(self, channel_id: str, reason: str = "normal") -> bool:
        """Hang up; a channel that is already gone (404) counts as success. True if we hung it up."""
        try:
            await self._op("channels", "hangup", channelId=channel_id, reason=reason)
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def get_channel(self, channel_id: str) -> JSON | None:
        try:
            channel: JSON = await self._op("channels", "get", channelId=channel_id)
        except AriError as exc:
            if exc.status == 404:
                return None
            raise
        return channel

    async def list_channels(self) -> list[JSON]:
        channels: list[JSON] = await self._op("channels", "list")
        return channels

    async def snoop(self, *, channel_id: str, snoop_id: str, spy: str = "both", app_args: Iterable[str] = ()) -> JSON:
        """A Snoop/ channel listening to `channel_id` (spy only: whisper none) that enters our app."""
        result: JSON = await self._op(
            "channels",
            "snoopChannel",
            channelId=channel_id,
            spy=spy,
            whisper="none",
            app=self.app,
            appArgs=",".join(app_args),
            snoopId=snoop_id,
        )
        return result

    # ---- bridges and recordings ------------------------------------------------------------------------

    async def create_bridge(self, bridge_id: str, name: str = "") -> JSON:
        result: JSON = await self._op("bridges", "create", type="mixing", bridgeId=bridge_id, name=name or None)
        return result

    async def add_to_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self._op("bridges", "addChannel", bridgeId=bridge_id, channel=channel_id)

    async def remove_from_bridge(self, bridge_id: str, channel_id: str) -> None:
        await self._op("bridges", "removeChannel", bridgeId=bridge_id, channel=channel_id)

    async def destroy_bridge_quietly(self, bridge_id: str) -> bool:
        try:
            await self._op("bridges", "destroy", bridgeId=bridge_id)
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def record_bridge(
        self, bridge_id: str, name: str, *, fmt: str = "wav", beep: bool = False, max_duration_s: int = 0
    ) -> JSON:
        """Start recording a bridge: 201 {state: queued, target_uri: bridge:<id>}, then RecordingStarted."""
        result: JSON = await self._op(
            "bridges",
            "record",
            bridgeId=bridge_id,
            name=name,
            format=fmt,
            ifExists="overwrite",
            beep=beep,
            maxDurationSeconds=max_duration_s,
        )
        return result

    async def stop_recording_quietly(self, name: str) -> bool:
        try:
            await self._op("recordings", "stop", recordingName=name)
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def fetch_stored_recording(self, name: str) -> bytes:
        """The stored recording's file as bytes (defect 2: aioari's getStoredFile decodes it as text)."""
        response = await self._request("recordings", "getStoredFile", recordingName=name)
        try:
            return await response.read()
        finally:
            response.release()

    async def delete_stored_recording_quietly(self, name: str) -> bool:
        """Delete on Asterisk; call only after the file is stored and hashed on our side (NOTES fact 6)."""
        try:
            await self._op("recordings", "deleteStored", recordingName=name)
        except AriError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    # ---- Asterisk itself ------------------------------------------------------------------------------

    async def ping(self) -> JSON:
        """GET /asterisk/ping: for the health heartbeat."""
        result: JSON = await self._op("asterisk", "ping")
        return result

    async def startup_time(self) -> str:
        """Asterisk's startup time: it changes when Asterisk restarted, not when only the websocket dropped."""
        info: JSON = await self._op("asterisk", "getInfo", only="status")
        return str(info["status"]["startup_time"])

    # ---- endpoints and applications --------------------------------------------------------------------

    async def get_endpoint(self, resource: str, tech: str = "PJSIP") -> JSON | None:
        """Endpoint JSON (state online/offline/unknown, channel_ids), None when Asterisk does not know it."""
        try:
            endpoint: JSON = await self._op("endpoints", "get", tech=tech, resource=resource)
        except AriError as exc:
            if exc.status == 404:
                return None
            raise
        return endpoint

    async def get_application(self) -> JSON:
        app: JSON = await self._op("applications", "get", applicationName=self.app)
        return app

    async def subscribe(self, *sources: str) -> JSON | None:
        """Subscribe the app to event sources (channel:, bridge:, endpoint:, deviceState:), now and after
        every reconnect. While disconnected they are only remembered."""
        self._subscriptions.update(sources)
        if self._ws is None:
            return None
        app: JSON = await self._op("applications", "subscribe", applicationName=self.app, eventSource=list(sources))
        return app

    async def unsubscribe(self, *sources: str) -> None:
        self._subscriptions.difference_update(sources)
        if self._ws is not None:
            with contextlib.suppress(AriError):
                await self._op("applications", "unsubscribe", applicationName=self.app, eventSource=list(sources))
