"""The manager's dashboard charts render in Chinese on a non-empty canvas, export a PNG, and move when a clerk
records a repayment, without a reload (issue 18 item 1)."""

from __future__ import annotations

import io
import os
from decimal import Decimal

import pytest
from PIL import Image
from playwright.sync_api import expect

from cases.enums import CaseStatus

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")
REPAID_TODAY = """() => {
  const el = document.querySelector('[data-chart-key=repayments]');
  const chart = el && window.echarts && echarts.getInstanceByDom(el);
  if (!chart) return null;
  const data = chart.getOption().series[0].data;
  return data.length ? data[data.length - 1] : 0;
}"""
INKED_PIXELS = """(key) => {
  const canvas = document.querySelector('[data-chart-key=' + key + '] canvas');
  if (!canvas) return 0;
  const ctx = canvas.getContext('2d');
  const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let inked = 0;
  for (let i = 0; i < px.length; i += 4) {
    if (px[i + 3] > 0 && (px[i] < 200 || px[i + 1] < 200 || px[i + 2] < 200)) inked++;
  }
  return inked;
}"""


def test_dashboard_charts_render_in_chinese_and_follow_a_repayment_live(live_url, browser_page, clerk, manager,
                                                                        collector, make_case):
    # given: the manager's dashboard with its charts drawn
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="图表还款",
                     entrusted_amount=Decimal("8000.00"))
    boss = browser_page(manager, viewport={"width": 1400, "height": 1000})
    boss.goto("/cases/dashboard/")
    boss.wait_for_function("() => document.getElementById('dash-charts').dataset.loads >= '1'", timeout=15000)
    boss.wait_for_function(f"() => ({INKED_PIXELS})('calls') > 500", timeout=10000)
    before = boss.evaluate(REPAID_TODAY)
    boss.evaluate("() => { window.__noReload = true; }")
    titles = boss.evaluate("""() => [...document.querySelectorAll('[data-chart-key]')].map(
        el => echarts.getInstanceByDom(el).getOption().title[0].text)""")
    assert titles == ["今日每小时外呼与接通（虚线：上周同日）", "本月累计回款（对比上月与目标）",
                      "未退完批次的回收率（按退案日期）"]
    calls = boss.evaluate(
        "() => echarts.getInstanceByDom(document.querySelector('[data-chart-key=calls]')).getOption()")
    assert calls["xAxis"][0]["data"][9] == "9时"
    assert [s["name"] for s in calls["series"]][:2] == ["今日外呼", "今日接通"]
    assert calls["toolbox"][0]["feature"]["saveAsImage"]["title"] == "导出图片"
    png = boss.evaluate("""() => echarts.getInstanceByDom(document.querySelector('[data-chart-key=batches]'))
        .getDataURL({type: 'png', backgroundColor: '#fff'})""")
    assert png.startswith("data:image/png;base64,")

    # the screenshot of a chart is not blank
    shot = Image.open(io.BytesIO(boss.locator("[data-chart-key=calls]").screenshot())).convert("L")
    dark = sum(shot.histogram()[:160])
    assert dark > 1000, f"chart canvas looks empty ({dark} dark pixels)"
    if SHOTS:
        boss.screenshot(path=os.path.join(SHOTS, "dashboard_charts.png"), full_page=True)

    # when: the clerk records ¥1,234.56 on the case page
    page = browser_page(clerk)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#repayments")
    expect(panel.get_by_role("button", name="登记回款")).to_be_visible(timeout=15000)
    panel.locator("input[name=amount]").fill("1234.56")
    panel.locator("input[name=bank_ref]").fill("TB20261206")
    panel.get_by_role("button", name="登记回款").click()
    expect(page.locator("#repayments")).to_contain_text("TB20261206")

    # then: the month line's last point rises by the amount on the open page, which was not reloaded
    boss.wait_for_function(f"() => Math.abs(({REPAID_TODAY})() - {before} - 1234.56) < 0.001", timeout=15000)
    assert boss.evaluate("() => window.__noReload") is True
    expect(boss.locator("#dash-month-summary")).to_contain_text("1,234.56")
