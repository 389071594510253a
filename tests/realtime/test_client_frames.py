"""Client frames a socket does not understand are answered, never fatal (a binary frame used to close it)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.django_db(transaction=True)]


async def _replayed(ws):
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"


@pytest.mark.parametrize("frame", [{"bytes_data": b"\x00\x01binary"}, {"text_data": "not json {"}])
async def test_a_frame_the_socket_does_not_understand_is_answered_and_the_socket_stays_open(
    fresh_layer, ws_connect, collector, frame
):
    # given
    ws = await ws_connect(collector, "/ws/live/?after=0")
    await _replayed(ws)
    # when
    await ws.send_to(**frame)
    # then
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.error"
    await ws.send_json_to({"action": "ping", "t": 7})
    assert await ws.receive_json_from(timeout=3) == {"type": "realtime.pong", "t": 7}
