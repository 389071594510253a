"""Browser: a collector marks the debtor's mobile 空号 from the dial list on the case page; the dial list then shows
the mark instead of a dial button; the owner clerk opens the case and lifts it with a reason (issue 15)."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from accounts.models import AuditAction, AuditEntry
from cases.enums import CaseEventType, CaseStatus
from cases.models import BlockedNumber, CaseEvent

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_collector_marks_empty_number_and_clerk_lifts_it(live_url, browser_page, collector, clerk, make_case):
    # given
    collector.sip_endpoint = "8001"
    collector.save()
    case = make_case(case_no="BN-1", debtor_name="郑禁拨", status=CaseStatus.IN_PROGRESS, collector=collector,
                     owner_clerk=clerk, mobile="13812345678")
    page = browser_page(collector)
    page.goto(f"/cases/{case.pk}/")
    row = page.locator("#call-panel li[data-contact='']").first
    expect(row).to_contain_text("138****5678")

    # when: 标记… → 空号 with a note
    row.locator("summary", has_text="标记").click()
    row.locator("select[name=reason]").select_option(label="空号")
    row.locator("input[name=note]").fill("拨打提示空号")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "dial_list_mark.png"))
    row.get_by_role("button", name="标记为禁拨").click()

    # then: in force at once, shown on the case and in the dial list
    expect(page.locator(".messages")).to_contain_text("已将 138****5678 标记为空号")
    expect(page.locator("#call-panel li.cp-blocked")).to_contain_text("空号")
    expect(page.locator("#blocked-numbers")).to_be_visible()
    blocked = BlockedNumber.objects.get()
    assert blocked.is_active and blocked.number == "13812345678" and blocked.created_by == collector

    # when: the owner clerk lifts it
    desk = browser_page(clerk)
    desk.goto(f"/cases/{case.pk}/")
    mark = desk.locator(f"#blocked-{blocked.pk}")
    expect(mark).to_contain_text("禁止拨打")
    mark.get_by_label("撤销原因").fill("客户已复机")
    if SHOTS:
        desk.screenshot(path=os.path.join(SHOTS, "case_blocked_numbers.png"), full_page=True)
    mark.get_by_role("button", name="撤销").click()

    # then
    expect(desk.locator(".messages")).to_contain_text("已撤销")
    expect(desk.locator(f"#blocked-{blocked.pk}")).to_contain_text("已撤销")
    blocked.refresh_from_db()
    assert not blocked.is_active and blocked.lifted_by == clerk
    assert set(AuditEntry.objects.filter(object_type="blocked_number").values_list("action", flat=True)) == {
        AuditAction.NUMBER_BLOCK, AuditAction.NUMBER_UNBLOCK}
    assert CaseEvent.objects.filter(case=case, type=CaseEventType.NUMBER_UNBLOCKED).exists()
    expect(desk.locator("#case-timeline")).to_contain_text("撤销号码")
