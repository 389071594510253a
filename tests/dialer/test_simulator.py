"""The ARI simulator over real HTTP and websocket, driven by the real aioari client through dialer.ari."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import re
import wave
from pathlib import Path

import aiohttp
import pytest

from dialer.ari import AriClient, AriError, events_url
from tests.dialer.conftest import ARI_PASSWORD, ARI_USER, Recorder

EXAMPLES = json.loads((Path(__file__).parent / "event_examples.json").read_text(encoding="utf-8"))
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")
FACT_1 = [
    "ChannelCreated",
    "ChannelDialplan",
    "ChannelCallerId",
    "ChannelConnectedLine",
    "Dial:",
    "ChannelStateChange",
    "Dial:RINGING",
    "ChannelStateChange",
    "Dial:ANSWER",
    "ChannelVarset",
    "StasisStart",
]
FACT_3 = [
    "ChannelCreated",
    "ChannelVarset",
    "StasisStart",
    "Dial:",
    "ChannelStateChange",
    "Dial:RINGING",
    "ChannelStateChange",
    "Dial:ANSWER",
]


async def call_collector(ari: AriClient, recorder: Recorder, channel_id: str = "coll-1", ext: str = "8001") -> dict:
    channel = await ari.originate(
        endpoint=f"PJSIP/{ext}",
        channel_id=channel_id,
        app_args=["collector", "case42"],
        caller_id='"Case 42" <5551234>',
    )
    await recorder.wait_type("StasisStart", channel_id)
    return channel


async def dial_customer(ari: AriClient, recorder: Recorder, number: str, channel_id: str, timeout_s: int = 30) -> dict:
    return await ari.create_and_dial(
        endpoint=f"PJSIP/{number}@trunk", channel_id=channel_id, app_args=["customer", "case42"], timeout_s=timeout_s
    )


def shape(value):
    """The key structure of a JSON value (nested dicts), ignoring values."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__


# ---- api-docs and authentication ------------------------------------------------------------------------


async def test_api_docs_are_served_with_base_path_of_the_host_header(simulator):
    # given
    url = simulator.url + "ari/api-docs/channels.json"
    # when
    auth = "Basic " + base64.b64encode(f"{ARI_USER}:{ARI_PASSWORD}".encode()).decode()
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Host": "pbx.example:8088", "Authorization": auth}) as resp,
    ):
        data = await resp.json()
    # then
    original = json.loads((Path(__file__).parents[2] / "dialer/simulator/api-docs/channels.json").read_text())
    assert data["basePath"] == "http://pbx.example:8088/ari"
    assert data["apis"] == original["apis"]


async def test_requests_without_credentials_are_refused(simulator):
    # given
    async with aiohttp.ClientSession() as session:
        # when
        async with session.get(simulator.url + "ari/channels") as resp:
            status, body = resp.status, await resp.json()
        async with session.get(simulator.url + "ari/channels", params={"api_key": f"{ARI_USER}:wrong"}) as resp:
            wrong = resp.status
    # then
    assert (status, body, wrong) == (401, {"message": "Authentication required"}, 401)


async def test_websocket_without_credentials_is_refused(simulator):
    # given
    url = events_url(simulator.url, app="collect", user=ARI_USER, password="wrong")
    # when / then
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(url)
    assert info.value.status == 401


# ---- outbound: NOTES facts 1 and 3 ----------------------------------------------------------------------


async def test_originate_returns_a_down_channel_and_gives_the_fact_1_event_order(ari, recorder):
    # given / when
    channel = await call_collector(ari, recorder)
    # then
    assert channel["state"] == "Down"
    assert shape(channel) == shape(EXAMPLES["ChannelCreated"]["channel"])
    assert recorder.types_for("coll-1") == FACT_1
    start = await recorder.wait_type("StasisStart", "coll-1")
    assert start["args"] == ["collector", "case42"]
    assert start["channel"]["state"] == "Up"
    assert start["channel"]["caller"] == {"name": "Case 42", "number": "5551234"}
    assert start["channel"]["dialplan"]["app_data"] == "collect,collector,case42"


async def test_events_have_asterisk_shapes_and_timestamps(ari, recorder, sim):
    # given: a whole call with a recording, plus endpoint and device subscriptions
    await ari.subscribe("endpoint:PJSIP/8001", "deviceState:PJSIP/8001")
    await call_collector(ari, recorder)
    await ari.create_bridge("br-1", "case42")
    await ari.add_to_bridge("br-1", "coll-1")
    await dial_customer(ari, recorder, "5551234", "cust-1")
    await recorder.wait_type("Dial", "cust-1", dialstatus="ANSWER")
    await ari.add_to_bridge("br-1", "cust-1")
    await ari.record_bridge("br-1", "case42-out-1")
    await recorder.wait_type("RecordingStarted")
    # when
    await ari.hangup_quietly("cust-1")
    await ari.hangup_quietly("coll-1")
    await ari.destroy_bridge_quietly("br-1")
    await recorder.wait_type("BridgeDestroyed")
    # then
    seen = {}
    for event in recorder.events:
        seen.setdefault(event["type"], event)
        assert TIMESTAMP.match(event["timestamp"]), event["timestamp"]
        assert (event["application"], event["asterisk_id"]) == ("collect", "02:fc:00:00:00:01")
    for event_type, example in EXAMPLES.items():
        if event_type == "BridgeCreated":
            continue  # only subscribeAll apps get it (tested below)
        assert event_type in seen, event_type
        assert set(seen[event_type]) == set(example), event_type
        for key in ("channel", "peer", "bridge", "recording", "endpoint", "device_state"):
            if key in example and key != "recording":
                assert shape(seen[event_type][key]) == shape(example[key]), (event_type, key)


async def test_create_and_dial_an_answering_customer_gives_the_fact_3_order(ari, recorder):
    # given
    await call_collector(ari, recorder)
    # when
    channel = await dial_customer(ari, recorder, "13800138000", "cust-1")
    await recorder.wait_type("Dial", "cust-1", dialstatus="ANSWER")
    # then
    assert channel["state"] == "Down"
    assert channel["name"].startswith("PJSIP/trunk-")
    assert recorder.types_for("cust-1") == FACT_3
    start = await recorder.wait_type("StasisStart", "cust-1")
    assert (start["channel"]["state"], start["args"]) == ("Down", ["customer", "case42"])


@pytest.mark.parametrize(("behaviour", "cause"), [("busy", 17), ("unreachable", 1), ("unavailable", 34)])
async def test_customer_failures_come_as_a_hangup_request_with_the_cause_and_no_final_dial(
    ari, recorder, sim, behaviour, cause
):
    """Real Asterisk (kit README): a trunk dial failing with busy, 404 or 503 sends no final Dial event, only
    ChannelHangupRequest with cause 17, 1 or 34, StasisEnd and ChannelDestroyed with the same cause."""
    # given
    await sim.script("13900139000", behaviour=behaviour)
    await call_collector(ari, recorder)
    # when
    await dial_customer(ari, recorder, "13900139000", "cust-1", timeout_s=20)
    destroyed = await recorder.wait_type("ChannelDestroyed", "cust-1")
    # then
    dials = [e["dialstatus"] for e in recorder.about_channel("cust-1") if e["type"] == "Dial"]
    assert dials == [""]
    request = [e for e in recorder.about_channel("cust-1") if e["type"] == "ChannelHangupRequest"]
    assert [r["cause"] for r in request] == [cause] and destroyed["cause"] == cause
    assert recorder.types_for("cust-1")[-3:] == ["ChannelHangupRequest", "StasisEnd", "ChannelDestroyed"]


async def test_customer_ring_timeout_is_a_soft_hangup_request_32_then_destroyed_19(ari, recorder, sim):
    # given
    await sim.script("13900139000", behaviour="no_answer")
    await call_collector(ari, recorder)
    # when
    await dial_customer(ari, recorder, "13900139000", "cust-1", timeout_s=20)
    destroyed = await recorder.wait_type("ChannelDestroyed", "cust-1")
    # then
    request = [e for e in recorder.about_channel("cust-1") if e["type"] == "ChannelHangupRequest"][0]
    assert (request["cause"], request.get("soft")) == (32, True) and destroyed["cause"] == 19
    assert "Dial:NOANSWER" not in recorder.types_for("cust-1")


async def test_customer_hanging_up_after_n_seconds(ari, recorder, sim):
    # given
    await sim.script("13700137000", answer_after=1, hangup_after=3)
    await call_collector(ari, recorder)
    # when
    await dial_customer(ari, recorder, "13700137000", "cust-1")
    request = await recorder.wait_type("ChannelHangupRequest", "cust-1")
    destroyed = await recorder.wait_type("ChannelDestroyed", "cust-1")
    # then
    assert request["cause"] == 16
    assert "soft" not in request
    assert destroyed["cause_txt"] == "Normal Clearing"


async def test_customer_sending_dtmf(ari, recorder, sim):
    # given
    await sim.script("13700137001", dtmf="12#")
    await call_collector(ari, recorder)
    # when
    await dial_customer(ari, recorder, "13700137001", "cust-1")
    await recorder.wait_for(lambda e: e["type"] == "ChannelDtmfReceived" and e["digit"] == "#")
    # then
    digits = [e["digit"] for e in recorder.events if e["type"] == "ChannelDtmfReceived"]
    assert digits == ["1", "2", "#"]


async def test_lines_exhausted_makes_the_next_dial_chanunavail(ari, recorder, sim):
    # given: the simulator has 3 lines, all talking
    await call_collector(ari, recorder)
    for n in range(3):
        await dial_customer(ari, recorder, f"1380000000{n}", f"cust-{n}")
        await recorder.wait_type("Dial", f"cust-{n}", dialstatus="ANSWER")
    # when
    await dial_customer(ari, recorder, "13800000009", "cust-9")
    destroyed = await recorder.wait_type("ChannelDestroyed", "cust-9")
    # then
    statuses = [e["dialstatus"] for e in recorder.about_channel("cust-9") if e["type"] == "Dial"]
    assert statuses == [""]  # as the carrier's 503: no final Dial, the cause in the hang-up events
    assert destroyed["cause"] == 34
    assert (await sim.state())["lines"] == {"total": 3, "busy": 3}


async def test_a_freed_line_can_be_used_again(ari, recorder, sim):
    # given
    await call_collector(ari, recorder)
    for n in range(3):
        await dial_customer(ari, recorder, f"1380000000{n}", f"cust-{n}")
        await recorder.wait_type("Dial", f"cust-{n}", dialstatus="ANSWER")
    # when
    await ari.hangup_quietly("cust-0")
    await dial_customer(ari, recorder, "13800000009", "cust-9")
    # then
    await recorder.wait_type("Dial", "cust-9", dialstatus="ANSWER")


async def test_offline_phone_cannot_be_originated_and_its_endpoint_says_offline(ari, sim):
    # given
    await sim.phone("8002", online=False)
    # when
    with pytest.raises(AriError) as info:
        await ari.originate(endpoint="PJSIP/8002", channel_id="coll-x")
    endpoint = await ari.get_endpoint("8002")
    # then
    assert info.value.status == 500
    assert endpoint == {"technology": "PJSIP", "resource": "8002", "state": "offline", "channel_ids": []}
    assert await ari.get_endpoint("9999") is None


async def test_collector_not_answering_gives_only_destroyed_19_and_no_stasis_start(ari, recorder, sim):
    # given
    await sim.phone("8003", behaviour="no_answer")
    # when
    await ari.originate(endpoint="PJSIP/8003", channel_id="coll-3", timeout_s=5)
    destroyed = await recorder.wait_type("ChannelDestroyed", "coll-3")
    # then
    types = recorder.types_for("coll-3")
    assert "StasisStart" not in types
    assert "Dial:NOANSWER" not in types and "ChannelHangupRequest" not in types  # real Asterisk: Destroyed only
    assert destroyed["cause"] == 19


# ---- bridges and recordings: NOTES facts 2, 4, 5, 6 -----------------------------------------------------


async def test_bridge_record_and_hangup_follow_fact_5_and_store_a_wav_of_the_call(ari, recorder, sim):
    # given
    await call_collector(ari, recorder)
    bridge = await ari.create_bridge("br-1", "case42")
    await ari.add_to_bridge("br-1", "coll-1")
    await dial_customer(ari, recorder, "5551234", "cust-1")
    await recorder.wait_type("Dial", "cust-1", dialstatus="ANSWER")
    await ari.add_to_bridge("br-1", "cust-1")
    live = await ari.record_bridge("br-1", "case42-out-1", beep=False)
    await recorder.wait_type("RecordingStarted")
    await asyncio.sleep(0.4)  # 4 simulated seconds of talk
    # when
    await ari.hangup_quietly("cust-1")
    await ari.hangup_quietly("coll-1")
    finished = await recorder.wait_type("RecordingFinished")
    audio = await ari.fetch_stored_recording("case42-out-1")
    # then
    assert "BridgeCreated" not in [e["type"] for e in recorder.events]
    assert (bridge["bridge_type"], bridge["channels"]) == ("mixing", [])
    assert live == {"name": "case42-out-1", "format": "wav", "state": "queued", "target_uri": "bridge:br-1"}
    assert recorder.types_for("cust-1")[-4:] == [
        "ChannelHangupRequest",
        "ChannelLeftBridge",
        "StasisEnd",
        "ChannelDestroyed",
    ]
    hangup = next(e for e in recorder.about_channel("cust-1") if e["type"] == "ChannelHangupRequest")
    destroyed = recorder.about_channel("cust-1")[-1]
    assert (hangup["cause"], hangup["soft"], destroyed["cause"], destroyed["cause_txt"]) == (
        32,
        True,
        16,
        "Normal Clearing",
    )
    assert finished["recording"]["state"] == "done"
    with wave.open(io.BytesIO(audio)) as wav:
        params = wav.getparams()
        seconds = wav.getnframes() / wav.getframerate()
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 8000)
    assert abs(seconds - finished["recording"]["duration"]) <= 0.5
    assert seconds >= 3


async def test_stopping_a_live_recording_finishes_it_and_stored_ones_can_be_listed_and_deleted(ari, recorder):
    # given
    await call_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    await ari.record_bridge("br-1", "rec-stop")
    await recorder.wait_type("RecordingStarted")
    # when
    stopped = await ari.stop_recording_quietly("rec-stop")
    finished = await recorder.wait_type("RecordingFinished")
    stored = await ari._op("recordings", "listStored")
    deleted = await ari.delete_stored_recording_quietly("rec-stop")
    # then
    assert stopped is True
    assert finished["recording"]["name"] == "rec-stop"
    assert stored == [{"name": "rec-stop", "format": "wav"}]
    assert deleted is True
    assert await ari.delete_stored_recording_quietly("rec-stop") is False
    assert await ari.stop_recording_quietly("rec-stop") is False
    with pytest.raises(AriError) as info:
        await ari.fetch_stored_recording("rec-stop")
    assert info.value.status == 404


async def test_remove_and_destroy_bridge(ari, recorder):
    # given
    await call_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    # when
    await ari.remove_from_bridge("br-1", "coll-1")
    left = await recorder.wait_type("ChannelLeftBridge", "coll-1")
    await ari.destroy_bridge_quietly("br-1")
    gone = await recorder.wait_type("BridgeDestroyed")
    # then
    assert left["bridge"]["channels"] == []
    assert gone["bridge"]["id"] == "br-1"
    assert await ari.destroy_bridge_quietly("br-1") is False


async def test_bridge_errors_use_asterisk_status_codes(ari, recorder):
    # given
    await ari.create_bridge("br-1")
    # when / then
    for call, status in [
        (ari.create_bridge("br-1"), 409),
        (ari.add_to_bridge("br-1", "no-such-channel"), 400),
        (ari.add_to_bridge("no-such-bridge", "x"), 404),
        (ari.record_bridge("no-such-bridge", "r"), 404),
    ]:
        with pytest.raises(AriError) as info:
            await call
        assert info.value.status == status


# ---- inbound --------------------------------------------------------------------------------------------


async def test_inbound_call_enters_stasis_ringing_with_the_caller_number(ari, recorder, sim):
    # given / when
    injected = await sim.inbound("13912345678", "80001234")
    start = await recorder.wait_type("StasisStart", injected["channel_id"])
    await ari.ring(injected["channel_id"])
    await ari.answer(injected["channel_id"])
    up = await recorder.wait_type("ChannelStateChange", injected["channel_id"])
    # then
    assert injected["stasis"] == "STARTED"
    assert start["args"] == ["inbound", "80001234"]
    assert start["channel"]["state"] == "Ring"
    assert start["channel"]["caller"]["number"] == "13912345678"
    assert start["channel"]["dialplan"]["exten"] == "80001234"
    assert up["channel"]["state"] == "Up"


async def test_inbound_call_while_the_app_is_disconnected_falls_back_to_the_dialplan(sim):
    # given: nobody connected as "collect"
    # when
    injected = await sim.inbound("13912345678", "80001234")
    # then
    assert injected["stasis"] == "FAILED"
    assert (await sim.state())["channels"] == []


async def test_inbound_caller_hanging_up_before_answer_is_cause_127_without_destroyed(ari, recorder, sim):
    # given / when
    injected = await sim.inbound("13912345678", "80001234", hangup_after=2)
    request = await recorder.wait_type("ChannelHangupRequest", injected["channel_id"])
    await recorder.wait_type("StasisEnd", injected["channel_id"])
    # then: the channel leaves the app and ends in the dialplan
    assert request["cause"] == 127
    await asyncio.sleep(0.1)
    assert "ChannelDestroyed" not in recorder.types_for(injected["channel_id"])


# ---- snoop (supervisor listen-in) -----------------------------------------------------------------------


async def test_snoop_creates_a_spy_channel_in_stasis_that_ends_with_its_target(ari, recorder):
    # given
    await call_collector(ari, recorder)
    # when
    snoop = await ari.snoop(channel_id="coll-1", snoop_id="snoop-1", spy="both", app_args=["listen", "8004"])
    start = await recorder.wait_type("StasisStart", "snoop-1")
    await ari.hangup_quietly("coll-1")
    destroyed = await recorder.wait_type("ChannelDestroyed", "snoop-1")
    # then
    assert snoop["name"].startswith("Snoop/coll-1-")
    assert (start["args"], start["channel"]["state"]) == (["listen", "8004"], "Up")
    assert destroyed["cause"] == 16


async def test_snoop_refuses_a_bad_direction(ari, recorder):
    # given
    await call_collector(ari, recorder)
    # when / then
    with pytest.raises(AriError) as info:
        await ari._op("channels", "snoopChannel", channelId="coll-1", spy="sideways", app="collect")
    assert info.value.status == 400


# ---- applications, subscriptions, device states ---------------------------------------------------------


async def test_application_lists_its_channels_and_bridges(ari, recorder):
    # given
    await call_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    await ari.subscribe("endpoint:PJSIP/8001", "deviceState:PJSIP/8001")
    # when
    app = await ari.get_application()
    # then
    assert app == {
        "name": "collect",
        "channel_ids": ["coll-1"],
        "bridge_ids": ["br-1"],
        "endpoint_ids": ["PJSIP/8001"],
        "device_names": ["PJSIP/8001"],
        "events_allowed": [],
        "events_disallowed": [],
    }


async def test_subscribing_to_a_missing_source_is_422(ari):
    # given / when / then
    with pytest.raises(AriError) as info:
        await ari.subscribe("channel:nope")
    assert info.value.status == 422


async def test_device_state_follows_the_phone(ari, recorder, sim):
    # given
    await ari.subscribe("deviceState:PJSIP/8001")
    # when
    await call_collector(ari, recorder)
    # then
    states = [e["device_state"]["state"] for e in recorder.events if e["type"] == "DeviceStateChanged"]
    assert states[:2] == ["RINGING", "INUSE"]
    listed = await ari._op("deviceStates", "get", deviceName="PJSIP/8001")
    assert listed == {"name": "PJSIP/8001", "state": "INUSE"}


async def test_subscribe_all_app_gets_bridge_created_but_not_stasis_events_of_the_call_app(simulator, ari, recorder):
    # given: a dashboard app subscribed to everything
    dash_events = Recorder()
    dash = AriClient(
        url=simulator.url,
        user=ARI_USER,
        password=ARI_PASSWORD,
        app="collect-dash",
        on_event=dash_events,
        subscribe_all=True,
        backoff_initial_s=0.05,
    )
    await dash.connect()
    runner = asyncio.create_task(dash.run_events())
    await asyncio.wait_for(dash.connected.wait(), 5)
    try:
        # when
        await call_collector(ari, recorder)
        await ari.create_bridge("br-d", "demo")
        created = await dash_events.wait_type("BridgeCreated")
        await dash_events.wait_type("ChannelStateChange", "coll-1")
    finally:
        await dash.close()
        await runner
    # then
    assert created["application"] == "collect-dash"
    dash_types = {e["type"] for e in dash_events.events}
    assert not dash_types & {"StasisStart", "StasisEnd"}


async def test_overlapping_subscriptions_duplicate_raw_events_and_the_wrapper_drops_the_copies(
    simulator, ari, recorder
):
    # given: a raw websocket for an app subscribed to a channel and to its endpoint; "collect" likewise
    url = events_url(simulator.url, app="raw", user=ARI_USER, password=ARI_PASSWORD)
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await call_collector(ari, recorder)
        await ari.subscribe("endpoint:PJSIP/8001")
        await ari._op(
            "applications", "subscribe", applicationName="raw", eventSource=["channel:coll-1", "endpoint:PJSIP/8001"]
        )
        # when
        await ari.hangup_quietly("coll-1")
        frames = []
        with contextlib.suppress(TimeoutError):
            while True:
                frames.append(json.loads((await asyncio.wait_for(ws.receive(), 0.5)).data))
    await recorder.wait_type("ChannelDestroyed", "coll-1")
    # then
    assert [f["type"] for f in frames].count("ChannelDestroyed") == 2
    assert recorder.types_for("coll-1").count("ChannelDestroyed") == 1


async def test_originate_while_disconnected_returns_200_but_the_call_is_dropped_after_answer(ari, recorder, sim):
    # given: the app exists but its websocket is gone (NOTES: never originate while disconnected)
    await ari.close()
    async with aiohttp.ClientSession() as session:
        url = sim.base + "/ari/channels"
        params = {
            "endpoint": "PJSIP/8001",
            "app": "collect",
            "channelId": "ghost",
            "api_key": f"{ARI_USER}:{ARI_PASSWORD}",
        }
        # when
        async with session.post(url, params=params) as resp:
            status = resp.status
    await asyncio.sleep(0.4)
    # then
    assert status == 200
    assert (await sim.state())["channels"] == []


async def test_subscribe_all_is_ignored_when_reconnecting_to_an_existing_app(simulator, sim):
    # given: app "dash" first connected without subscribeAll
    plain = events_url(simulator.url, app="dash", user=ARI_USER, password=ARI_PASSWORD)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(plain):
            pass
        # when
        everything = events_url(simulator.url, app="dash", user=ARI_USER, password=ARI_PASSWORD, subscribe_all=True)
        async with session.ws_connect(everything):
            state = await sim.state()
    # then
    assert state["apps"]["dash"]["subscribe_all"] is False


async def test_inbound_calls_use_trunk_lines(ari, recorder, sim):
    # given: 3 lines, 3 inbound calls in progress
    for n in range(3):
        await sim.inbound(f"1391234567{n}", "80001234")
    # when
    refused = await sim.inbound("13912345679", "80001234")
    # then
    assert refused == {"channel_id": None, "stasis": "CONGESTION"}
    assert (await sim.state())["lines"]["busy"] == 3


async def test_hanging_up_a_ringing_collector_sends_no_dial_cancel(ari, recorder, sim):
    # given
    await sim.phone("8001", behaviour="no_answer")
    await ari.originate(endpoint="PJSIP/8001", channel_id="coll-1")
    await recorder.wait_type("Dial", "coll-1", dialstatus="RINGING")
    # when
    await ari.hangup_quietly("coll-1")
    destroyed = await recorder.wait_type("ChannelDestroyed", "coll-1")
    # then
    # real Asterisk ends the dial NOANSWER, never CANCEL (tests/asterisk/test_fidelity.py)
    assert recorder.types_for("coll-1")[-3:] == ["ChannelHangupRequest", "Dial:NOANSWER", "ChannelDestroyed"]
    assert "Dial:CANCEL" not in recorder.types_for("coll-1")
    assert destroyed["cause"] == 16


async def test_dialling_a_channel_twice_is_409(ari, recorder):
    # given
    await ari.create_and_dial(endpoint="PJSIP/5551234@trunk", channel_id="cust-1")
    # when / then
    with pytest.raises(AriError) as info:
        await ari._op("channels", "dial", channelId="cust-1")
    assert info.value.status == 409


async def test_live_recording_can_be_read_and_cancelled(ari, recorder):
    # given
    await call_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    await ari.record_bridge("br-1", "rec-c")
    await recorder.wait_type("RecordingStarted")
    # when
    live = await ari._op("recordings", "getLive", recordingName="rec-c")
    await ari._op("recordings", "cancel", recordingName="rec-c")
    finished = await recorder.wait_type("RecordingFinished")
    # then
    assert live == {"name": "rec-c", "format": "wav", "state": "recording", "target_uri": "bridge:br-1"}
    assert finished["recording"]["state"] == "canceled"
    assert await ari._op("recordings", "listStored") == []


async def test_endpoints_list_phones_and_trunk_with_their_channels(ari, recorder, sim):
    # given
    await call_collector(ari, recorder)
    await sim.phone("8004", online=False)
    # when
    endpoints = {e["resource"]: e for e in await ari._op("endpoints", "list")}
    # then
    assert endpoints["8001"] == {
        "technology": "PJSIP",
        "resource": "8001",
        "state": "online",
        "channel_ids": ["coll-1"],
    }
    assert endpoints["8004"]["state"] == "offline"
    assert endpoints["trunk"]["state"] == "online"


# ---- real Asterisk's timing (shared/asterisk/README.md); tests/asterisk/test_fidelity.py checks the same there ----


async def test_create_answers_before_stasis_start_and_an_early_dial_is_409(ari, recorder, sim):
    # given: StasisStart comes 2 simulated seconds after channels/create has answered
    await sim.quirks(create_stasis_delay=2)
    # when
    await ari._op("channels", "create", endpoint="PJSIP/5551234@trunk", app="collect", channelId="cust-1")
    with pytest.raises(AriError) as info:
        await ari._op("channels", "dial", channelId="cust-1", timeout=10)
    # then
    assert (info.value.status, info.value.message) == (409, "Channel not in Stasis application")
    assert "StasisStart" not in recorder.types_for("cust-1")
    await recorder.wait_type("StasisStart", "cust-1")


async def test_create_and_dial_waits_for_stasis_start(ari, recorder, sim):
    """D1: the dialer's create_and_dial dials only once the channel is in the app (it got 409 before)."""
    # given
    await sim.quirks(create_stasis_delay=1)
    await sim.script("5551234", answer_after=0.5)
    # when
    await ari.create_and_dial(endpoint="PJSIP/5551234@trunk", channel_id="cust-1", timeout_s=10)
    # then
    await recorder.wait_type("Dial", "cust-1", dialstatus="ANSWER")
    types = recorder.types_for("cust-1")
    assert types.index("StasisStart") < types.index("Dial:")


async def test_a_destroyed_bridge_can_finish_its_recording_without_recording_finished(ari, recorder, sim):
    # given
    await sim.quirks(drop_recording_finished=1)
    await call_collector(ari, recorder)
    await ari.create_bridge("br-1")
    await ari.add_to_bridge("br-1", "coll-1")
    await ari.record_bridge("br-1", name="rec-1")
    await recorder.wait_type("RecordingStarted")
    # when
    await ari.destroy_bridge_quietly("br-1")
    await asyncio.sleep(0.2)
    # then: no event, but the file is stored
    assert not [e for e in recorder.events if e["type"] == "RecordingFinished"]
    assert [r["name"] for r in (await sim.state())["stored_recordings"]] == ["rec-1"]
