"""dialer.ari: each aioari 0.10.2 defect from NOTES.md, the events loop, resync and faults, against the simulator."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.parse

import aiohttp
import pytest
from aioari.client import Client

from dialer import ari as ari_module
from dialer.ari import (
    AppSnapshot,
    AriClient,
    AriConnectError,
    AriNotConnectedError,
    _params,
    event_channels,
    events_url,
)
from dialer.session import CallSession, EndCause, Phase
from dialer.simulator.engine import Engine
from dialer.simulator.server import SimulatorServer
from tests.dialer.conftest import ARI_PASSWORD, ARI_USER, Recorder


async def answered_collector(ari, recorder, channel_id="coll-1", ext="8001"):
    await ari.originate(endpoint=f"PJSIP/{ext}", channel_id=channel_id, app_args=["collector"])
    await recorder.wait_type("StasisStart", channel_id)


async def connected_call(ari, recorder):
    await answered_collector(ari, recorder)
    await ari.create_bridge("br-1", "case42")
    await ari.add_to_bridge("br-1", "coll-1")
    await ari.create_and_dial(endpoint="PJSIP/13800138000@trunk", channel_id="cust-1", app_args=["customer"])
    await recorder.wait_type("Dial", "cust-1", dialstatus="ANSWER")
    await ari.add_to_bridge("br-1", "cust-1")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- defect 1: boolean query parameters -----------------------------------------------------------------


async def test_raw_aioari_boolean_parameter_raises_type_error(ari, recorder):
    # given
    await answered_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    # when / then
    with pytest.raises(TypeError):
        await ari._client.swagger.bridges.record(bridgeId="br-1", name="r", format="wav", beep=False)


async def test_boolean_parameters_go_through_the_wrapper_as_strings(ari, recorder):
    # given
    await answered_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    # when
    live = await ari.record_bridge("br-1", "rec-bool", beep=False)
    # then
    assert live["state"] == "queued"
    assert _params({"beep": True, "mute": False, "x": None, "ids": ["a", "b"]}) == {
        "beep": "true",
        "mute": "false",
        "ids": "a,b",
    }


# ---- defect 2: getStoredFile ----------------------------------------------------------------------------


async def stored_recording(ari, recorder, name="rec-file"):
    await answered_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    await ari.record_bridge("br-1", name)
    await recorder.wait_type("RecordingStarted")
    await asyncio.sleep(0.2)
    await ari.hangup_quietly("coll-1")
    await recorder.wait_type("RecordingFinished")


async def test_raw_aioari_get_stored_file_fails_on_wav_bytes(ari, recorder):
    # given
    await stored_recording(ari, recorder)
    # when / then
    with pytest.raises(UnicodeDecodeError):
        await ari._client.recordings.getStoredFile(recordingName="rec-file")


async def test_fetch_stored_recording_returns_the_wav_bytes(ari, recorder):
    # given
    await stored_recording(ari, recorder)
    # when
    data = await ari.fetch_stored_recording("rec-file")
    # then
    assert data[:4] == b"RIFF"
    assert data[8:12] == b"WAVE"


# ---- defect 3: run() returns on close; our loop reconnects, resyncs and dispatches per task ---------------


async def test_raw_aioari_run_returns_silently_when_the_socket_drops():
    # given: a simulator with plain credentials, so that aioari's own websocket can connect at all
    server = SimulatorServer(Engine(phones=["8001"], lines=1, speed=10, user="asterisk", password="asterisk"))
    server.start()
    http = ari_module._new_http_client("127.0.0.1", "asterisk", "asterisk")
    client = Client(server.url, http)
    try:
        await client.init()
        run = asyncio.create_task(client.run(apps="collect"))
        await asyncio.sleep(0.2)
        # when
        async with aiohttp.ClientSession() as session, session.post(server.url + "_sim/drop-websocket") as resp:
            assert (await resp.json())["dropped"] == 1
        result = await asyncio.wait_for(run, 5)
        await asyncio.sleep(0.2)
        # then: run() just returned, and nothing reconnected
        async with aiohttp.ClientSession() as session, session.get(server.url + "_sim/state") as resp:
            state = await resp.json()
        assert result is None
        assert state["apps"]["collect"]["connected"] is False
    finally:
        await client.close()
        server.stop()


async def test_raw_aioari_websocket_fails_with_special_character_credentials(simulator, sim):
    # given
    http = ari_module._new_http_client("127.0.0.1", ARI_USER, ARI_PASSWORD)
    client = Client(simulator.url, http)
    await client.init()  # plain HTTP requests are encoded by yarl and work
    try:
        # when / then: aioari pastes "api_key=dialer:p@ss:w/rd+&=#%" into the URL unescaped
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await asyncio.wait_for(client.run(apps="collect"), 5)
    finally:
        await client.close()
    assert info.value.status == 401
    assert (await sim.state())["apps"] == {}


async def test_events_loop_reconnects_after_a_drop_and_resync_shows_the_call_still_up(simulator, sim, recorder):
    # given
    snapshots: list[AppSnapshot] = []

    async def on_resync(snapshot):
        snapshots.append(snapshot)

    client = AriClient(
        url=simulator.url,
        user=ARI_USER,
        password=ARI_PASSWORD,
        app="collect",
        on_event=recorder,
        on_resync=on_resync,
        backoff_initial_s=0.05,
        backoff_max_s=0.4,
    )
    await client.connect()
    runner = asyncio.create_task(client.run_events())
    await asyncio.wait_for(client.connected.wait(), 5)
    try:
        await connected_call(client, recorder)
        # when
        await sim.drop_websocket()
        await asyncio.sleep(0.01)
        refused = None
        try:
            await client.originate(endpoint="PJSIP/8002", channel_id="coll-2")
        except AriNotConnectedError as exc:
            refused = exc
        await asyncio.wait_for(_wait_connects(client, 2), 5)
        # then
        assert refused is not None and "未连接" in str(refused)
        assert snapshots[-1].channel_ids == ("coll-1", "cust-1")
        assert snapshots[-1].bridge_ids == ("br-1",)
        assert snapshots[-1].channels["cust-1"]["state"] == "Up"
        session = CallSession.outbound(
            call_uuid="u", collector_channel_id="coll-1", collector_ext="8001", number="13800138000"
        )
        session.apply(next(e for e in recorder.events if e["type"] == "StasisStart" and e["channel"]["id"] == "coll-1"))
        session.customer_dialling(customer_channel_id="cust-1")
        assert session.resync(snapshots[-1].channels).phase == Phase.CONNECTED
        # and events flow again on the new socket
        await client.hangup_quietly("cust-1")
        await recorder.wait_type("ChannelDestroyed", "cust-1")
    finally:
        await client.close()
        await runner


async def _wait_connects(client: AriClient, count: int) -> None:
    while client.connects < count or not client.connected.is_set():
        await asyncio.sleep(0.01)


async def test_events_in_the_gap_are_lost(simulator, sim, ari, recorder):
    # given
    await connected_call(ari, recorder)
    # when: the customer hangs up while the socket is down
    await sim.drop_websocket()
    await sim.far_hangup("cust-1")
    await asyncio.wait_for(_wait_connects(ari, 2), 5)
    snapshot = await ari.snapshot()
    # then
    assert [e for e in recorder.about_channel("cust-1") if e["type"] == "ChannelDestroyed"] == []
    assert snapshot.channel_ids == ("coll-1",)


async def test_simulator_restart_mid_call_leaves_nothing_on_resync(simulator, sim, recorder):
    # given
    snapshots: list[AppSnapshot] = []

    async def on_resync(snapshot):
        snapshots.append(snapshot)

    client = AriClient(
        url=simulator.url,
        user=ARI_USER,
        password=ARI_PASSWORD,
        app="collect",
        on_event=recorder,
        on_resync=on_resync,
        backoff_initial_s=0.05,
        backoff_max_s=0.4,
    )
    await client.connect()
    await client.subscribe("endpoint:PJSIP/8001")
    runner = asyncio.create_task(client.run_events())
    await asyncio.wait_for(client.connected.wait(), 5)
    try:
        await connected_call(client, recorder)
        session = CallSession.outbound(
            call_uuid="u", collector_channel_id="coll-1", collector_ext="8001", number="13800138000"
        )
        session.apply(next(e for e in recorder.events if e["type"] == "StasisStart"))
        session.customer_dialling(customer_channel_id="cust-1")
        session.apply(
            next(
                e
                for e in recorder.events
                if e["type"] == "Dial" and e["dialstatus"] == "ANSWER" and e["peer"]["id"] == "cust-1"
            )
        )
        # when
        await sim.restart()
        await asyncio.wait_for(_wait_connects(client, 2), 5)
        # then
        assert snapshots[-1].channel_ids == ()
        assert snapshots[-1].channels == {}
        transition = session.resync(snapshots[-1].channels)
        assert (transition.cause, transition.hangup) == (EndCause.LOST, ())
        # explicit subscriptions are restored after the restart (subscribeAll would be ignored)
        assert (await client.get_application())["endpoint_ids"] == ["PJSIP/8001"]
    finally:
        await client.close()
        await runner


async def test_a_slow_handler_does_not_block_the_reader(simulator, sim):
    # given: the handler for the first event blocks until the last one has been seen
    release = asyncio.Event()
    seen: list[str] = []

    async def handler(event):
        seen.append(event["type"])
        if len(seen) == 1:
            await asyncio.wait_for(release.wait(), 5)
        if event["type"] == "StasisStart":
            release.set()

    client = AriClient(
        url=simulator.url, user=ARI_USER, password=ARI_PASSWORD, app="collect", on_event=handler, backoff_initial_s=0.05
    )
    await client.connect()
    runner = asyncio.create_task(client.run_events())
    await asyncio.wait_for(client.connected.wait(), 5)
    try:
        # when
        await client.originate(endpoint="PJSIP/8001", channel_id="coll-1")
        await asyncio.wait_for(release.wait(), 5)
    finally:
        await client.close()
        await runner
    # then
    assert seen[0] == "ChannelCreated"
    assert "StasisStart" in seen


async def test_a_failing_handler_is_logged_and_the_loop_goes_on(simulator, sim, caplog):
    # given
    recorder = Recorder()

    async def handler(event):
        if event["type"] == "ChannelCreated":
            raise RuntimeError("boom")
        await recorder(event)

    client = AriClient(url=simulator.url, user=ARI_USER, password=ARI_PASSWORD, app="collect", on_event=handler)
    await client.connect()
    runner = asyncio.create_task(client.run_events())
    await asyncio.wait_for(client.connected.wait(), 5)
    try:
        # when
        await client.originate(endpoint="PJSIP/8001", channel_id="coll-1")
        await recorder.wait_type("StasisStart", "coll-1")
    finally:
        await client.close()
        await runner
    # then
    assert any("channel_id=coll-1" in r.getMessage() for r in caplog.records if r.levelname == "ERROR")


async def test_application_replaced_backs_off_instead_of_fighting(simulator, ari, recorder):
    # given
    url = events_url(simulator.url, app="collect", user=ARI_USER, password=ARI_PASSWORD)
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as newer:
        # when
        await asyncio.sleep(0.15)
        # then: the older socket (ours) was told and closed; we wait before taking the name back
        assert not ari.connected.is_set()
        assert ari.connects == 1
        await newer.close()
    await asyncio.wait_for(_wait_connects(ari, 2), 5)


# ---- defect 4: credentials with special characters on the websocket ---------------------------------------


def test_events_url_percent_encodes_the_credentials():
    # given / when
    url = events_url("http://pbx:8088/", app="collect", user="dialer", password="p@ss:w/rd+&=#%")
    # then
    query = urllib.parse.urlsplit(url).query
    assert url.startswith("ws://pbx:8088/ari/events?")
    assert "#" not in url
    assert urllib.parse.parse_qs(query)["api_key"] == ["dialer:p@ss:w/rd+&=#%"]


async def test_special_character_credentials_work_on_the_websocket(ari, sim):
    # given: the fixture connected with ARI_PASSWORD = "p@ss:w/rd+&=#%"
    # when
    state = await sim.state()
    # then
    assert state["apps"]["collect"]["connected"] is True


# ---- defect 5: failed connect closes its session ----------------------------------------------------------


@pytest.mark.parametrize("wrong", ["port", "password"])
async def test_failed_connect_closes_the_http_session(simulator, monkeypatch, wrong):
    # given
    created = []
    original = ari_module._new_http_client

    def watching(host, user, password):
        http = original(host, user, password)
        created.append(http)
        return http

    monkeypatch.setattr(ari_module, "_new_http_client", watching)
    url = f"http://127.0.0.1:{closed_port()}/" if wrong == "port" else simulator.url
    client = AriClient(url=url, user=ARI_USER, password="nope" if wrong == "password" else ARI_PASSWORD, app="collect")
    # when
    with pytest.raises(AriConnectError):
        await client.connect()
    # then
    assert len(created) == 1
    assert created[0].session.closed


async def test_connect_with_backoff_retries_until_close(simulator):
    # given
    client = AriClient(
        url=f"http://127.0.0.1:{closed_port()}/",
        user="u",
        password="p",
        app="collect",
        backoff_initial_s=0.01,
        backoff_max_s=0.02,
    )
    task = asyncio.create_task(client.connect_with_backoff())
    await asyncio.sleep(0.1)
    # when
    await client.close()
    # then
    with pytest.raises(AriConnectError):
        await asyncio.wait_for(task, 2)


# ---- defect 6: events with several channels ---------------------------------------------------------------


async def test_raw_aioari_channel_callbacks_get_a_dict_for_dial_but_event_channels_is_uniform(ari, recorder):
    # given
    received = []
    ari._client.on_channel_event("Dial", lambda objs, event: received.append(objs))
    await answered_collector(ari, recorder)
    dial = next(e for e in recorder.events if e["type"] == "Dial")
    # when
    await ari._client.process_ws(dial)
    channels = event_channels(dial)
    start = event_channels(next(e for e in recorder.events if e["type"] == "StasisStart"))
    # then
    assert isinstance(received[0], dict)
    assert set(channels) == {"peer"}
    assert channels["peer"]["id"] == "coll-1"
    assert set(start) == {"channel"}


# ---- small operations -------------------------------------------------------------------------------------


async def test_hangup_quietly_treats_a_missing_channel_as_done(ari):
    # given / when / then
    assert await ari.hangup_quietly("never-existed") is False


async def test_get_channel_returns_none_when_gone(ari, recorder):
    # given
    await answered_collector(ari, recorder)
    # when
    alive = await ari.get_channel("coll-1")
    await ari.hangup_quietly("coll-1")
    gone = await ari.get_channel("coll-1")
    # then
    assert alive["state"] == "Up"
    assert gone is None
    assert await ari.list_channels() == []


async def test_operations_before_connect_raise(simulator):
    # given
    client = AriClient(url=simulator.url, user=ARI_USER, password=ARI_PASSWORD, app="collect")
    # when / then
    with pytest.raises(AriConnectError):
        await client.get_application()


async def test_startup_time_tells_a_restart_from_a_dropped_websocket(ari, sim):
    # given
    before = await ari.startup_time()
    # when
    await sim.drop_websocket()
    after_drop = await ari.startup_time()
    await asyncio.sleep(0.01)
    await sim.restart()
    after_restart = await ari.startup_time()
    # then
    assert before == after_drop
    assert after_restart != before
    assert (await ari.ping())["ping"] == "pong"


class StallingProxy:
    """A TCP relay to the simulator that, once `stall` is set, takes requests and never answers them."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.stall = False
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []
        self.relays: set[asyncio.Task] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/"

    async def __aenter__(self) -> StallingProxy:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
        await asyncio.gather(*self.relays, return_exceptions=True)
        await self.server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.relays.add(task)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.writers += [writer, upstream_writer]

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter, *, swallow: bool) -> None:
            while data := await src.read(65536):
                if not (swallow and self.stall):
                    dst.write(data)
                    await dst.drain()

        await asyncio.gather(pipe(reader, upstream_writer, swallow=True),
                             pipe(upstream_reader, writer, swallow=False), return_exceptions=True)
        for end in (writer, upstream_writer):
            end.close()
            with contextlib.suppress(OSError):
                await end.wait_closed()


async def test_a_request_asterisk_never_answers_fails_after_the_read_timeout(simulator, sim, monkeypatch):
    # given: a connected client whose Asterisk then stops answering (the socket stays open, nothing comes back)
    monkeypatch.setattr(ari_module, "HTTP_TIMEOUT", aiohttp.ClientTimeout(total=None, connect=1, sock_read=0.5))
    async with StallingProxy(simulator.port) as proxy:
        client = AriClient(url=proxy.url, user=ARI_USER, password=ARI_PASSWORD, app="collect")
        await client.connect()
        assert (await client.ping())["ping"] == "pong"
        proxy.stall = True
        try:
            # when: without a read timeout this would wait aiohttp's default five minutes
            with pytest.raises(ari_module.AriError) as caught:
                await asyncio.wait_for(client.ping(), 10)
        finally:
            await client.close()
    # then: the step fails as an ARI error the call flows already handle
    assert caught.value.status == 0
    assert "did not answer" in str(caught.value)


def test_a_wav_whose_sizes_were_never_written_gets_the_sizes_of_its_bytes():
    """D7: Asterisk killed mid-recording leaves RIFF and data sizes 0; the partial audio is kept readable."""
    import io
    import struct
    import wave

    from dialer.ari import repair_wav_header

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x01\x00" * 16000)
    good = buffer.getvalue()
    broken = bytearray(good)
    struct.pack_into("<I", broken, 4, 0)
    struct.pack_into("<I", broken, 40, 0)
    # when
    fixed = repair_wav_header(bytes(broken))
    # then
    assert fixed == good
    with wave.open(io.BytesIO(fixed)) as wav:
        assert wav.getnframes() == 16000
    assert repair_wav_header(good) is good and repair_wav_header(b"not a wav") == b"not a wav"
