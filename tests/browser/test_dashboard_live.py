"""The dashboard applies every event of a batch frame (realtime.fanout writes a burst as one frame)."""

from __future__ import annotations

import json
import re

import pytest

pytestmark = [pytest.mark.browser]

CARD = "() => document.querySelector('.dash-card[data-col=calls_made] .v').textContent.trim()"
ROW = ("(id) => document.querySelector('tr[data-scope=collector][data-id=\"' + id + '\"] td[data-col=calls_made]')"
       ".textContent.trim()")


def test_dashboard_applies_each_event_of_a_batch_frame_in_order(live_url, browser_page, manager, collector):
    # given: the manager's dashboard, its websocket passing through a route that can add frames
    sockets = []

    def through(ws):
        ws.connect_to_server()
        sockets.append(ws)

    boss = browser_page(manager)
    boss.route_web_socket(re.compile(r".*/ws/live/.*"), through)
    boss.goto("/cases/dashboard/")
    boss.wait_for_function("() => window.Realtime && window.Realtime.state === 'open'", timeout=15000)
    boss.evaluate("() => { window.__reloaded = false; window.addEventListener('beforeunload', "
                  "() => { window.__reloaded = true; }); }")
    day = boss.evaluate("() => document.getElementById('dashboard').dataset.day")
    before_card, before_row = int(boss.evaluate(CARD)), int(boss.evaluate(ROW, collector.pk))
    # when: two of the collector's counter changes arrive in one batch frame
    event = {"type": "dashboard.counter_changed", "day": day, "collector_id": collector.pk, "branch_id": None,
             "department_id": None, "amount_deltas": None}
    sockets[0].send(json.dumps({"type": "realtime.batch", "messages": [
        {**event, "deltas": {"calls_made": 1}}, {**event, "deltas": {"calls_made": 2}}]}))
    # then: both moved the collector's row and the total, without reloading the page
    boss.wait_for_function(f"() => ({CARD})() === '{before_card + 3}'", timeout=5000)
    assert int(boss.evaluate(ROW, collector.pk)) == before_row + 3
    assert boss.evaluate("() => window.__reloaded") is False
