"""外显号码池 in a browser (issue 17): a 系统管理员 adds a bank's number, reads the pool with its answer-rate trend,
opens a flagged number and puts it back into use."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from callerids.models import CallerNumber, CallerNumberDay, CallerNumberState
from callerids.selectors import local_day

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_sysadmin_adds_a_number_and_reactivates_a_flagged_one(live_url, browser_page, sysadmin, bank):
    # given: a shared number answering 35 % for two weeks, and one flagged today at 6 %
    today = local_day(timezone.now())
    shared = CallerNumber.objects.create(number="02161000001", daily_cap=150)
    flagged = CallerNumber.objects.create(number="02161000002", state=CallerNumberState.FLAGGED,
                                          state_reason="今日接通率 6%（2/32），号码池其他号码 35%，不到其 50%："
                                                       "疑似被标记为骚扰/催收，已自动休息")
    for i in range(14):
        day = today - dt.timedelta(days=13 - i)
        CallerNumberDay.objects.create(caller_number=shared, day=day, attempts=100 + i, answered=30 + (i % 5) * 2)
        CallerNumberDay.objects.create(caller_number=flagged, day=day, attempts=90, answered=max(36 - i * 3, 2))
    page = browser_page(sysadmin, base_url=live_url)
    page.goto("/caller-ids/")

    # when: a number of the bank is added
    page.get_by_label("号码", exact=True).fill("021-6100 0003")
    page.get_by_label("专用银行").select_option(label="招商银行")
    page.get_by_label("每日外呼上限").fill("120")
    page.get_by_role("button", name="添加号码").click()
    # then
    expect(page.locator(".messages")).to_contain_text("已添加外显号码 02161000003")
    row = page.locator("#caller-number-" + str(CallerNumber.objects.get(number="02161000003").pk))
    expect(row).to_contain_text("招商银行")
    expect(row).to_contain_text("0 / 120")
    expect(page.locator(f"#caller-number-{flagged.pk}")).to_contain_text("疑似被标记")
    expect(page.locator(f"#caller-number-{shared.pk} svg.spark polyline")).to_have_count(1)
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/caller_ids_list.png", full_page=True)

    # when: the flagged number is opened and put back into use
    page.locator(f"#caller-number-{flagged.pk} a").click()
    expect(page.locator("dl.facts")).to_contain_text("疑似被标记为骚扰/催收")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/caller_ids_detail.png", full_page=True)
    page.get_by_role("button", name="恢复使用").click()
    # then
    expect(page.locator(".messages")).to_contain_text("外显号码 02161000002 已恢复使用")
    expect(page.get_by_role("button", name="休息此号码")).to_be_visible()
    flagged.refresh_from_db()
    assert flagged.state == CallerNumberState.ACTIVE
