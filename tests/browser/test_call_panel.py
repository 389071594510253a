"""Browser: a collector dials from the case page and watches ringing → connected → ended in the call panel,
then plays the call's recording on the case page. The dialer runs inside daphne (the embedded default's
arrangement) against the ARI simulator started here."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
import urllib.request
import zoneinfo

import pytest
from playwright.sync_api import expect

from cases.enums import CaseStatus
from cases.models import CallRecord
from dialer.simulator.engine import Engine
from dialer.simulator.server import SimulatorServer
from tests import factories as f

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _sim(server: SimulatorServer, path: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(server.url.rstrip("/") + path, data=data, method="POST" if data else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback simulator
        return json.loads(response.read() or b"{}")


@pytest.fixture
def simulator():
    server = SimulatorServer(Engine(phones=["8001"], lines=6, trunk="trunk", speed=2.0, user="asterisk",
                                    password="asterisk"))
    server.start()
    yield server
    server.stop()


def test_collector_dials_from_the_case_and_plays_the_recording(start_daphne, browser_page, collector, clerk,
                                                               make_case, simulator, tmp_path):
    local = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).time()
    if not dt.time(8, 5) <= local <= dt.time(20, 55):
        pytest.skip("the dialer in daphne runs on the wall clock; calls are refused outside 08:00–21:00 Shanghai")
    # given: the collector's phone is extension 8001; the contact answers after 2 s and talks 6 s
    collector.sip_endpoint = "8001"
    collector.save()
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="钱拨号",
                     mobile="13812340000")
    f.CaseContactFactory(case=case, name="钱拨号", relation="本人", phone="13912345678")
    _sim(simulator, "/_sim/script", {"number": "13912345678", "answer_after": 2, "hangup_after": 6})
    url = start_daphne(DIALER_EMBEDDED="1", DIALER_SIMULATOR="0", DIALER_ARI_URL=simulator.url,
                       DIALER_ARI_USER="asterisk", DIALER_ARI_PASSWORD="asterisk", DIALER_LINES="6",
                       TEST_MEDIA_ROOT=str(tmp_path / "media"))
    page = browser_page(collector, base_url=url)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#call-panel")
    row = panel.locator("li", has_text="本人 钱拨号")
    expect(row).to_contain_text("139****5678")  # masked: the full number never reaches the browser
    assert "13912345678" not in page.content()
    deadline = time.monotonic() + 15
    while not _sim(simulator, "/_sim/state")["apps"].get("collect", {}).get("connected"):
        assert time.monotonic() < deadline, "the dialer inside daphne did not connect"
        time.sleep(0.2)
    time.sleep(0.5)  # the heartbeat that tells the web the dialer is connected
    page.evaluate("""() => { window.__states = []; const p = document.getElementById('call-panel');
        new MutationObserver(() => { const s = p.dataset.callState;
          if (s && window.__states[window.__states.length - 1] !== s) window.__states.push(s); })
        .observe(p, {attributes: true, attributeFilter: ['data-call-state']}); }""")

    # when
    row.get_by_role("button", name="拨打", exact=True).click()

    # then: ringing, then connected with a running timer, then ended with its cause
    expect(panel.locator("[data-cp-state]")).to_have_text("通话中", timeout=15000)
    expect(panel.locator("[data-cp-timer]")).to_be_visible()
    expect(panel.locator("[data-cp-hangup]")).to_be_visible()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "call-panel-connected.png"))
    time.sleep(1.2)
    assert panel.locator("[data-cp-timer]").inner_text() != "00:00"
    expect(panel.locator("[data-cp-state]")).to_have_text("已结束", timeout=15000)
    expect(panel.locator("[data-cp-message]")).to_contain_text("通话结束")
    states = page.evaluate("window.__states")
    assert states[0] == "requested" and states[-1] == "ended"
    assert states.index("ringing") < states.index("connected") < states.index("ended")

    # then: once the dialer has written the call, the page (no reload) opens its 登记结果 form (P4)
    expect(panel.locator("[data-cp-message]")).to_have_text("通话结束；已记入委案，请登记结果", timeout=15000)
    outcome = page.locator("#case-work details.call-outcome[open]")
    expect(outcome).to_be_visible(timeout=10000)
    expect(outcome.locator("select")).to_be_focused()
    # when: the collector enters the promise the debtor made
    promised = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    outcome.locator("select").select_option("promise")
    outcome.locator("input[type=date]").fill(promised)
    outcome.locator("input.amount").fill("650")
    outcome.locator("textarea").fill("答应周五前还")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "call-outcome-form.png"), full_page=True)
    outcome.get_by_role("button", name="保存结果").click()
    # then
    expect(page.locator("#case-work .work-saved")).to_contain_text("通话结果已登记")
    expect(page.locator("#case-work")).to_contain_text("答应周五前还")
    call = CallRecord.objects.get(case=case)
    assert (call.result, str(call.promise_amount), call.note) == ("promise", "650.00", "答应周五前还")

    # then: the call is on the case with its recording, playable in the browser
    deadline = time.monotonic() + 15
    while not CallRecord.objects.filter(case=case, recording__isnull=False).exists():
        assert time.monotonic() < deadline, "the recording was not stored"
        time.sleep(0.2)
    page.reload()
    audio = page.locator("#case-work audio").first
    expect(audio).to_be_attached(timeout=15000)
    playable = page.evaluate("""async () => { const a = document.querySelector('#case-work audio');
        a.muted = true; a.preload = 'auto'; a.load();
        await new Promise((ok, ko) => { a.oncanplay = ok; a.onerror = () => ko(a.error && a.error.code);
                                        setTimeout(() => ko('timeout'), 10000); });
        await a.play(); await new Promise(r => setTimeout(r, 300));
        return {duration: a.duration, time: a.currentTime}; }""")
    assert playable["duration"] > 2 and playable["time"] > 0
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "call-panel-recording.png"), full_page=True)


def test_manager_sees_the_live_line_and_listens_in(start_daphne, browser_page, collector, manager, make_case,
                                                    simulator):
    local = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).time()
    if not dt.time(8, 5) <= local <= dt.time(20, 55):
        pytest.skip("the dialer in daphne runs on the wall clock; calls are refused outside 08:00–21:00 Shanghai")
    # given: a collector on a long call; the manager's phone is extension 8009
    collector.sip_endpoint = "8001"
    collector.save()
    manager.sip_endpoint = "8009"
    manager.save()
    _sim(simulator, "/_sim/phones/8009", {"online": True})
    case = make_case(collector=collector, status=CaseStatus.IN_PROGRESS, debtor_name="孙线路", mobile="13812340001")
    _sim(simulator, "/_sim/script", {"number": "13812340001", "answer_after": 1})
    url = start_daphne(DIALER_EMBEDDED="1", DIALER_SIMULATOR="0", DIALER_ARI_URL=simulator.url,
                       DIALER_ARI_USER="asterisk", DIALER_ARI_PASSWORD="asterisk", DIALER_LINES="6")
    collector_page = browser_page(collector, base_url=url)
    collector_page.goto(f"/cases/{case.pk}/")
    deadline = time.monotonic() + 15
    while not _sim(simulator, "/_sim/state")["apps"].get("collect", {}).get("connected"):
        assert time.monotonic() < deadline, "the dialer inside daphne did not connect"
        time.sleep(0.2)
    time.sleep(0.5)
    # the manager has the lines board open, every line idle, before the call
    page = browser_page(manager, base_url=url)
    page.goto("/cases/lines/")
    expect(page.locator("tr.line-idle")).to_have_count(6)
    page.evaluate("""() => { window.__lineNotes = 0;
        document.addEventListener('rt:lines.changed', () => { window.__lineNotes += 1; }); }""")
    # when
    collector_page.locator("#call-panel li", has_text="本人手机").get_by_role("button", name="拨打", exact=True).click()
    expect(collector_page.locator("#call-panel [data-cp-state]")).to_have_text("通话中", timeout=15000)
    # then: pushed over the websocket (not the 10 s poll), one line talking with the collector and the case
    talking = page.locator("tr.line-talking")
    expect(talking).to_contain_text("孙线路", timeout=4000)
    assert page.evaluate("window.__lineNotes") >= 1
    expect(talking).to_contain_text(collector.display_name)
    expect(page.locator("tr.line-idle")).to_have_count(5)
    # when: the manager listens in
    talking.get_by_role("button", name="监听").click()
    expect(page.locator(".messages")).to_contain_text("摘机即可监听")
    # then: a spy-only snoop on the collector's leg shares a bridge with the manager's phone
    deadline = time.monotonic() + 10
    while True:
        state = _sim(simulator, "/_sim/state")
        bridges = [b for b in state["bridges"] if b["id"].startswith("lb-") and len(b["channels"]) == 2]
        if bridges:
            break
        assert time.monotonic() < deadline, state["bridges"]
        time.sleep(0.2)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "lines-board.png"), full_page=True)
    collector_page.locator("[data-cp-hangup]").click()
    expect(collector_page.locator("#call-panel [data-cp-state]")).to_have_text("已结束", timeout=10000)
