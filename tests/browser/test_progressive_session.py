"""Browser: 连续外呼 (issue 17). A collector starts a session on 今日工作; the dialer rings their phone and the first
case's debtor, the case opens by itself and its outcome form follows the call; they save it and the next call
goes; during the second call they pause; after its outcome nothing more is dialled. The manager's lines board
shows the session live all along. The dialer runs inside daphne against the ARI simulator started here."""

from __future__ import annotations

import datetime as dt
import os
import time
import zoneinfo

import pytest
from playwright.sync_api import expect

from cases.enums import CaseStatus
from cases.models import CallRecord
from progressive.models import DialSession, SessionStatus
from tests.browser import test_call_panel

_sim = test_call_panel._sim
simulator = test_call_panel.simulator  # the fixture: the ARI simulator, a phone 8001, 6 lines, speed 2

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _save_outcome(page, base: str, case, note: str) -> None:
    expect(page).to_have_url(f"{base}/cases/{case.pk}/", timeout=20000)
    outcome = page.locator("#case-work details.call-outcome[open]")
    expect(outcome).to_be_visible(timeout=20000)
    outcome.locator("select").select_option("self_answered")
    outcome.locator("textarea").fill(note)
    outcome.get_by_role("button", name="保存结果").click()
    expect(page.locator("#case-work .work-saved")).to_contain_text("通话结果已登记")


def test_collector_works_a_progressive_session_and_the_manager_watches(start_daphne, browser_page, collector,
                                                                     manager, make_case, simulator, tmp_path):
    local = dt.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).time()
    if not dt.time(8, 5) <= local <= dt.time(20, 50):
        pytest.skip("the dialer in daphne runs on the wall clock; calls are refused outside 08:00–21:00 Shanghai")
    # given: three new cases in the collector's queue; every debtor answers after 2 s and talks 5 s
    collector.sip_endpoint = "8001"
    collector.save()
    cases = [make_case(collector=collector, status=CaseStatus.NOT_STARTED, debtor_name=name, mobile=number,
                       balance=balance)
             for name, number, balance in (("甲连拨", "13811110001", 90000), ("乙连拨", "13811110002", 50000),
                                           ("丙连拨", "13811110003", 10000))]
    for case in cases:
        _sim(simulator, "/_sim/script", {"number": case.mobile, "answer_after": 4, "hangup_after": 10})
    url = start_daphne(DIALER_EMBEDDED="1", DIALER_SIMULATOR="0", DIALER_ARI_URL=simulator.url,
                       DIALER_ARI_USER="asterisk", DIALER_ARI_PASSWORD="asterisk", DIALER_LINES="6",
                       TEST_MEDIA_ROOT=str(tmp_path / "media"))
    board = browser_page(manager, base_url=url)
    board.goto("/cases/lines/")
    expect(board.locator("#lines-sessions")).to_contain_text("现在没有业务员在连续外呼")
    page = browser_page(collector, base_url=url)
    page.goto("/work/")
    deadline = time.monotonic() + 15
    while not _sim(simulator, "/_sim/state")["apps"].get("collect", {}).get("connected"):
        assert time.monotonic() < deadline, "the dialer inside daphne did not connect"
        time.sleep(0.2)

    # when: the collector starts the session from 今日工作
    page.get_by_role("button", name="按今日工作顺序连续外呼").click()
    expect(page.locator(".messages, [role=alert], .message").first).to_contain_text("连续外呼已开始")
    # then: the manager's board shows it without a reload
    row = board.locator("#lines-sessions tr", has_text=collector.display_name)
    expect(row).to_contain_text("进行中", timeout=15000)

    # then: the first case (largest balance) opens as its debtor is dialled; the outcome form follows the call
    bar = page.locator("#dial-session")
    expect(bar).to_contain_text("正在呼叫", timeout=20000)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "progressive-session-calling.png"))
    _save_outcome(page, url, cases[0], "第一通：本人接听")
    # then: the next call goes at once, to the second case
    expect(page).to_have_url(f"{url}/cases/{cases[1].pk}/", timeout=20000)
    expect(page.locator("[data-cp-state]")).to_have_text("通话中", timeout=20000)
    expect(row).to_contain_text(cases[1].case_no, timeout=15000)
    if SHOTS:
        board.screenshot(path=os.path.join(SHOTS, "progressive-lines-board.png"), full_page=True)
    # when: they pause during the second call, then save its outcome
    bar.get_by_role("button", name="暂停").click()
    expect(bar).to_contain_text("已暂停")
    _save_outcome(page, url, cases[1], "第二通：本人接听")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "progressive-session-paused.png"))
    # then: paused, nothing more is dialled; the board shows it paused
    expect(row).to_contain_text("已暂停", timeout=15000)
    time.sleep(2)
    calls = list(CallRecord.objects.filter(collector=collector).order_by("started_at"))
    assert [c.case_id for c in calls] == [cases[0].pk, cases[1].pk]
    assert [c.note for c in calls] == ["第一通：本人接听", "第二通：本人接听"]
    session = DialSession.objects.get(collector=collector)
    assert (session.status, session.calls, session.connected) == (SessionStatus.PAUSED, 2, 2)
    expect(bar).to_contain_text("已拨 2 · 接通 2")
