"""Browser: after a repayment every figure of the case page follows at once, on the clerk's page (who records it)
and on the collector's page (told over the websocket): the 已还金额 and 余额 tiles, the status badge in the
page head and in 处理人, and the repayment panel; a settled case no longer says 未开始."""

from __future__ import annotations

import os
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from cases.enums import CaseStatus

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")
SUBSCRIBED = """document.addEventListener("rt:realtime.subscribed", (e) => {
  window.__subscribed = (window.__subscribed || []).concat([e.detail.topic]); });"""


def _open_case(browser_page, user, case):
    page = browser_page(user)
    page.add_init_script(SUBSCRIBED)
    page.goto(f"/cases/{case.pk}/")
    page.wait_for_function("(t) => (window.__subscribed || []).includes(t)", arg=f"case:{case.pk}", timeout=15000)
    return page


def _tile(page, label):
    """The figure of a money tile, found by its label as a person reads it."""
    return page.locator(".money-block > div", has=page.locator("span", has_text=label)).locator("b")


def _head_badge(page):
    return page.locator(".page-head h1 .badge")


def _status_badge(page):
    return page.locator("table.kv tr", has=page.locator("th", has_text="状态")).locator("td .badge")


def _figures(page):
    return (_tile(page, "已还金额").inner_text(), _tile(page, "余额").inner_text(), _head_badge(page).inner_text(),
            _status_badge(page).inner_text())


def test_repayment_settling_a_case_updates_every_figure_on_the_clerks_and_collectors_page(
        live_url, browser_page, clerk, collector, make_case):
    # given: a case of ¥5,000.00 not yet started; its clerk and its collector each have its page open
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.NOT_STARTED, debtor_name="钱结清",
                     entrusted_amount=Decimal("5000.00"))
    desk = _open_case(browser_page, clerk, case)
    field = _open_case(browser_page, collector, case)
    for page in (desk, field):
        assert _figures(page) == ("0.00", "5,000.00", "未开始", "未开始")

    # when: the clerk records ¥1,200.00, then the remaining ¥3,800.00
    panel = desk.locator("#repayments")
    panel.locator("input[name=amount]").fill("1200")
    panel.get_by_role("button", name="登记回款").click()
    for page in (desk, field):
        expect(page.locator("#balance-figure")).to_have_text("3,800.00")  # the repayment panel
        expect(_tile(page, "已还金额")).to_have_text("1,200.00")
        expect(_tile(page, "余额")).to_have_text("3,800.00")
    panel = desk.locator("#repayments")
    panel.locator("input[name=amount]").fill("3800")
    panel.get_by_role("button", name="登记回款").click()

    # then: both pages show the case settled, everywhere on the page, without a reload
    for page in (desk, field):
        expect(page.locator("#balance-figure")).to_have_text("0.00")
        expect(_head_badge(page)).to_have_text("已结清")
        expect(_status_badge(page)).to_have_text("已结清")
        assert _figures(page) == ("5,000.00", "0.00", "已结清", "已结清")
        expect(page.locator(".money-block .cleared")).to_contain_text("已还清")
        # the return panel follows the status too: a settled case has no 退案/留案 buttons any more
        expect(page.locator("#return-panel")).not_to_contain_text("留案一个月")
    if SHOTS:
        field.screenshot(path=os.path.join(SHOTS, "case_figures_collector_settled.png"), full_page=True)
