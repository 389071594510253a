"""Browser: the call panel never lies over the case page. On a desktop it is docked at the right and the page makes
room for it (the right-hand columns and the 回款 card stay visible), it collapses to a tab and closes while idle;
at 390 px it is a bar at the bottom that fits the screen, and the top menu folds behind 菜单. Screenshots of both
go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from cases.enums import CaseStatus
from tests import factories as f

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=False)


def _overlap(a, b) -> bool:
    return (a["x"] < b["x"] + b["width"] and b["x"] < a["x"] + a["width"]
            and a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"])


def _covered(page, selector) -> list[str]:
    """Scroll each element matching `selector` to the bottom of the window, then say which the panel covers."""
    found = []
    for i in range(page.locator(selector).count()):
        el = page.locator(selector).nth(i)
        el.evaluate("e => e.scrollIntoView({block: 'end'})")
        box, panel = el.bounding_box(), page.locator("#call-panel").bounding_box()
        if box and panel and _overlap(box, panel):
            found.append(f"{selector}[{i}]")
    return found


@pytest.fixture
def case(make_case, collector, clerk):
    collector.sip_endpoint = "8001"
    collector.save()
    c = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="钱面板",
                  mobile="13812340000")
    f.CaseContactFactory(case=c, name="钱面板", relation="本人", phone="13912345678")
    f.CaseContactFactory(case=c, name="钱母", relation="母亲", phone="13800001111")
    return c


def test_call_panel_is_docked_beside_the_case_page_collapses_and_closes_on_a_desktop(live_url, browser_page,
                                                                                     collector, case):
    # given: the collector opens the case; the panel lists the numbers to dial
    page = browser_page(collector, viewport=DESKTOP)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#call-panel")
    expect(panel).to_contain_text("拨打本案号码")
    expect(page.locator("#repayments h2")).to_contain_text("回款记录")
    _shot(page, "call_panel_desktop.png")
    # then: nothing of the page lies under it: the money tiles, the three columns, the 回款 card, the work records
    targets = ["#case-figures", ".detail-grid > .card", "#repayments", "#return-panel", "#case-work"]
    assert [c for t in targets for c in _covered(page, t)] == []
    # when: collapsed to its tab
    panel.get_by_role("button", name="电话", exact=True).click()
    expect(panel.locator("[data-cp-numbers]")).to_be_hidden()
    assert panel.bounding_box()["width"] < 60
    assert [c for t in targets for c in _covered(page, t)] == []
    _shot(page, "call_panel_desktop_collapsed.png")
    # and expanded again, then closed while no call is live: gone, and the top bar offers it back
    panel.get_by_role("button", name="电话", exact=True).click()
    expect(panel.get_by_role("button", name="拨打").first).to_be_visible()
    panel.get_by_role("button", name="关闭电话面板").click()
    expect(panel).to_be_hidden()
    assert page.evaluate("document.querySelector('main').getBoundingClientRect().right") >= DESKTOP["width"] - 20
    reopen = page.get_by_role("button", name="☎ 电话")
    expect(reopen).to_be_visible()
    reopen.click()
    expect(panel.get_by_role("button", name="拨打").first).to_be_visible()


def test_call_panel_and_menu_fit_a_390_px_phone(live_url, browser_page, collector, case):
    # given
    page = browser_page(collector, viewport=PHONE)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#call-panel")
    expect(panel).to_be_visible()
    page.wait_for_function("document.querySelector('#call-panel [data-cp-numbers]').innerHTML.trim() !== ''")
    # then: the top menu is folded behind 菜单, and opens within the screen
    nav = page.get_by_role("navigation", name="主导航")
    expect(nav).to_be_hidden()
    _shot(page, "call_panel_phone.png")
    page.get_by_role("button", name="菜单").click()
    expect(nav).to_be_visible()
    expect(nav.get_by_role("link", name="委案列表")).to_be_visible()
    menu = page.locator("#topbar-menu").bounding_box()
    assert menu["x"] >= 0 and menu["x"] + menu["width"] <= PHONE["width"]
    _shot(page, "menu_phone_open.png")
    page.get_by_role("button", name="菜单").click()
    expect(nav).to_be_hidden()
    # and the panel is a bar across the bottom of the screen, nothing sticks out sideways
    box = panel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE["height"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    # when: opened, the numbers and their 拨打 buttons are on screen and usable
    panel.get_by_role("button", name="电话", exact=True).click()
    dial = panel.get_by_role("button", name="拨打").first
    expect(dial).to_be_visible()
    b = dial.bounding_box()
    assert b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"] and b["y"] + b["height"] <= PHONE["height"]
    _shot(page, "call_panel_phone_open.png")
    # and the end of the page can still be scrolled above the panel: nothing is out of reach
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    last = page.locator("#case-timeline").bounding_box()
    assert last["y"] + last["height"] <= panel.bounding_box()["y"] + 1
    # when: closed while idle
    panel.get_by_role("button", name="关闭电话面板").click()
    expect(panel).to_be_hidden()
