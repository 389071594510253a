"""Browser: on the returns page a clerk ticks every case with one box, retains them all at once, returns them all
after a confirmation page that says what will happen, and reopens one returned by mistake (with a reason)."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.enums import CaseEventType, CaseStatus
from cases.models import Case, CaseEvent

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_clerk_selects_all_retains_returns_after_confirming_and_reopens_one(live_url, browser_page, clerk,
                                                                           collector, make_case):
    # given: two cases of the clerk's bank due within the week, one worked by a collector
    soon = timezone.localdate() + dt.timedelta(days=5)
    a = make_case(case_no="RT-A", debtor_name="周退一", status=CaseStatus.IN_PROGRESS, collector=collector,
                  owner_clerk=clerk, return_date=soon, original_return_date=soon)
    b = make_case(case_no="RT-B", debtor_name="吴退二", status=CaseStatus.NOT_STARTED, owner_clerk=clerk,
                  return_date=soon, original_return_date=soon)
    page = browser_page(clerk)
    page.goto("/cases/returns/?days=7")
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)

    # when: 全选, then 留案一个月 for the ticked cases
    page.get_by_role("checkbox", name="全选本页委案").check()
    for box in page.locator('input[name="case_ids"]').all():
        expect(box).to_be_checked()
    expect(page.locator("[data-selected-count]")).to_have_text("已勾选 2 件")
    _shot(page, "returns_selected.png")
    page.get_by_role("button", name="留案一个月（勾选的委案）").click()
    # then: both retained one month
    expect(page.locator(".messages")).to_contain_text("已留案 2 件")
    for case in (a, b):
        case.refresh_from_db()
        assert case.status == CaseStatus.RETAINED and case.return_date > soon

    # when: 全选 again and 退案 (the page now lists them 60 days ahead)
    page.goto("/cases/returns/?days=60")
    page.get_by_role("checkbox", name="全选本页委案").check()
    page.get_by_role("button", name="退案（勾选的委案）…").click()
    # then: a confirmation page says what will happen; nothing is returned yet
    expect(page.get_by_role("heading", name="确认退案")).to_be_visible()
    expect(page.locator(".consequences")).to_contain_text(collector.display_name)
    expect(page.locator(".consequences")).to_contain_text("天内可由负责内勤或管理人员")
    assert Case.objects.filter(status=CaseStatus.RETURNED).count() == 0
    _shot(page, "returns_confirm.png")
    page.get_by_role("button", name="确认退案 2 件").click()
    expect(page.locator(".messages")).to_contain_text("已确认退案 2 件")
    assert Case.objects.filter(status=CaseStatus.RETURNED).count() == 2

    # when: RT-A was a mistake: reopened from 最近退案 with a reason
    recent = page.locator("#recent-returns")
    row = recent.locator("tr", has_text="RT-A")
    row.get_by_role("textbox").fill("误操作，银行未要求退回")
    _shot(page, "returns_recent.png")
    row.get_by_role("button", name="撤销退案").click()
    # then: RT-A is retained again with its collector, on its timeline; RT-B stays returned
    expect(page.locator(".messages")).to_contain_text("已撤销退案")
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, a.collector_id, b.status) == (CaseStatus.RETAINED, collector.pk, CaseStatus.RETURNED)
    assert CaseEvent.objects.filter(case=a, type=CaseEventType.RETURN_UNDONE, summary__contains="误操作").exists()
    # and the case page of RT-B offers the undo with its deadline
    page.goto(f"/cases/{b.pk}/")
    panel = page.locator("#return-panel")
    expect(panel.get_by_role("button", name="撤销退案")).to_be_visible()
    expect(panel).to_contain_text("可撤销至")
    _shot(page, "case_returned_undo.png")
