"""Browser: a manager's and an administrator's top bar fits a 1366-px office screen on one line; a menu opens by
mouse or keyboard (↓ to its first page, ↓/↑ between pages, Esc back to its button) and leads to the page; on a
phone every page is reachable behind 菜单. Screenshots go to $SCREENSHOT_DIR when set."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")
OFFICE = {"width": 1366, "height": 768}


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name))


@pytest.mark.parametrize("who", ["manager", "sysadmin"])
def test_the_bar_fits_an_office_screen(who, request, live_url, browser_page):
    page = browser_page(request.getfixturevalue(who), viewport=OFFICE)
    page.goto("/cases/")
    bar = page.locator(".topbar")
    # then: nothing of the bar is cut off or pushed out sideways: the user's name and 退出 are on screen
    assert page.evaluate("(n => n.scrollWidth <= n.clientWidth)(document.querySelector('.mainnav'))")
    logout = bar.get_by_role("button", name="退出")
    box = logout.bounding_box()
    assert box is not None and box["x"] + box["width"] <= OFFICE["width"]
    assert bar.bounding_box()["height"] <= 48
    _shot(page, f"nav_{who}.png")


def test_a_menu_opens_by_keyboard_and_by_mouse(live_url, browser_page, manager):
    page = browser_page(manager, viewport=OFFICE)
    page.goto("/cases/")
    nav = page.get_by_role("navigation", name="主导航")
    calls = nav.get_by_role("button", name="外呼")
    lines = nav.get_by_role("link", name="线路")
    expect(lines).to_be_hidden()
    # when: the keyboard opens 外呼
    calls.focus()
    page.keyboard.press("ArrowDown")
    # then: its first page has the focus; ↓ moves on, ↑ comes back; Esc closes it onto its button
    expect(lines).to_be_focused()
    expect(calls).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("ArrowDown")
    expect(nav.get_by_role("link", name="未接来电")).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(lines).to_be_focused()
    _shot(page, "nav_manager_menu_open.png")
    page.keyboard.press("Escape")
    expect(lines).to_be_hidden()
    expect(calls).to_be_focused()
    # when: a click opens 业绩与报表, then another menu: only one is open at a time
    nav.get_by_role("button", name="业绩与报表").click()
    expect(nav.get_by_role("link", name="报表", exact=True)).to_be_visible()
    calls.click()
    expect(nav.get_by_role("link", name="报表", exact=True)).to_be_hidden()
    # and choosing a page opens it, with its menu marked
    lines.click()
    expect(page).to_have_url(f"{live_url}/cases/lines/")
    expect(page.locator(".navgroup.active .navgroup-btn")).to_have_text("外呼")


def test_every_page_is_reachable_behind_the_phone_menu(live_url, browser_page, manager):
    page = browser_page(manager, viewport={"width": 390, "height": 844})
    page.goto("/cases/")
    page.get_by_role("button", name="菜单").click()
    nav = page.get_by_role("navigation", name="主导航")
    for name in ("委案列表", "线路", "报表", "催收设置"):
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    _shot(page, "nav_manager_phone.png")
