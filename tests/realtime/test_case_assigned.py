"""case.assigned over the live websocket: a collector hears of new cases at once, and a browser that was away
gets the notice on reconnect (stored per user)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from cases.actions.assignments import assignment_create

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_collector_websocket_receives_case_assigned(fresh_layer, ws_connect, clerk, collector, make_case):
    # given: the collector's page is open
    cases = [await database_sync_to_async(make_case)() for _ in range(2)]
    ws = await ws_connect(collector, "/ws/live/?after=0")
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"
    # when: a clerk assigns two cases to them
    await database_sync_to_async(assignment_create)(cases=cases, collector=collector, by=clerk)
    # then
    message = await ws.receive_json_from(timeout=5)
    assert message["type"] == "case.assigned"
    assert (message["direction"], message["count"], message["text"]) == ("in", 2, "您有 2 件新分配的委案")
    assert sorted(message["case_ids"]) == sorted(c.pk for c in cases)
    assert isinstance(message["event_id"], int)


async def test_case_assigned_is_replayed_to_a_browser_that_was_away(fresh_layer, ws_connect, clerk, collector,
                                                                    make_case):
    # given: the assignment happened while the collector had no page open
    case = await database_sync_to_async(make_case)()
    await database_sync_to_async(assignment_create)(cases=[case], collector=collector, by=clerk)
    # when: their browser connects, catching up from before
    ws = await ws_connect(collector, "/ws/live/?after=0")
    # then
    message = await ws.receive_json_from(timeout=3)
    assert (message["type"], message["text"], message["replayed"]) == ("case.assigned", "您有 1 件新分配的委案",
                                                                      True)
    assert (await ws.receive_json_from(timeout=3))["type"] == "realtime.replayed"
