"""Browser (issue 16, Done when): a collector records a promise for today on a call; the clerk records the
matching repayment; the collector's 今日工作 and the case's promise history turn to 已兑现 without a reload; a
second promise left unpaid past its grace shows as 已违约 at the top of the queue."""

from __future__ import annotations

import datetime as dt
import os
import threading
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.enums import CaseStatus
from tests import factories as f

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")
SUBSCRIBED = """document.addEventListener("rt:realtime.subscribed", (e) => {
  window.__subscribed = (window.__subscribed || []).concat([e.detail.topic]); });"""


def in_thread(fn, **kwargs):
    """Run an action in a worker thread (Playwright keeps an event loop in the test's thread, and publishing
    after commit uses async_to_sync)."""
    from django.db import connection

    out = {}

    def run():
        try:
            out["value"] = fn(**kwargs)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)
    return out.get("value")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_promise_kept_live_and_broken_promise_tops_the_queue(start_daphne, browser_page, collector, clerk,
                                                             make_case):
    from cases.actions.calls import call_record_create
    from worklist.actions import promises_check_due

    url = start_daphne()
    today = timezone.localdate()
    # given: two cases of the collector, and the collector's 今日工作 open in one tab and the first case in another
    kept = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="钱守信",
                     entrusted_amount=Decimal("8000.00"), entrust_date=today - dt.timedelta(days=30),
                     return_date=today + dt.timedelta(days=60))
    broken = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="孙失约",
                       entrusted_amount=Decimal("3000.00"), entrust_date=today - dt.timedelta(days=30),
                       return_date=today + dt.timedelta(days=60))
    f.CaseContactFactory(case=kept, name="钱守信", relation="本人", phone="13912340001")
    queue = browser_page(collector, base_url=url)
    queue.goto("/work/")
    expect(queue.locator("#rt-status")).to_have_class("rt-status rt-open", timeout=15000)
    case_tab = queue.context.new_page()
    case_tab.add_init_script(SUBSCRIBED)
    case_tab.goto(f"/cases/{kept.pk}/")
    case_tab.wait_for_function("(t) => (window.__subscribed || []).includes(t)", arg=f"case:{kept.pk}",
                               timeout=15000)

    # when: the collector records a call with a promise of ¥500.00 for today
    panel = case_tab.locator("#case-work")
    expect(panel.get_by_role("button", name="保存电话记录")).to_be_visible(timeout=15000)
    panel.locator("select[name=contact]").select_option(label="本人 钱守信 139****0001")
    panel.locator("select[name=result]").first.select_option(label="承诺还款")
    panel.locator("input[name=promise_date]").first.fill(today.isoformat())
    panel.locator("input[name=promise_amount]").first.fill("500")
    panel.get_by_role("button", name="保存电话记录").click()
    # then: the promise history shows it 待兑现, and (called today) the case is not in today's queue
    history = case_tab.locator("#case-promises")
    expect(history.locator("tr[data-status]")).to_have_count(1, timeout=10000)
    expect(history.locator(".badge.p-open")).to_have_text("待兑现")
    expect(history).to_contain_text("本人 钱守信")
    expect(history).not_to_contain_text("13912340001")

    # when: the clerk records the matching repayment on the case page
    desk = browser_page(clerk, base_url=url)
    desk.goto(f"/cases/{kept.pk}/")
    money = desk.locator("#repayments")
    money.locator("input[name=amount]").fill("500")
    money.get_by_role("button", name="登记回款").click()
    # then: the collector's open case page turns the promise 已兑现 without a reload
    expect(history_badge := case_tab.locator("#case-promises .badge.p-kept")).to_have_text("已兑现", timeout=10000)
    assert history_badge.count() == 1
    _shot(case_tab, "promise_kept_case_page.png")

    # given: a second promise, made on the other case four days ago for two days ago, never paid
    with_promise = in_thread(call_record_create, case=broken, collector=collector, number="13900000000",
                             by=collector, result="promise",
                             started_at=timezone.now() - dt.timedelta(days=4),
                             promise_date=today - dt.timedelta(days=3), promise_amount=Decimal("300.00"))
    assert with_promise is not None
    # when: the scheduler finds it past its grace (2 days)
    in_thread(promises_check_due)
    # then: the queue reloads by itself and shows it first, as 承诺违约
    first = queue.locator("#queue-table tbody tr").first
    expect(first).to_have_attribute("data-case-id", str(broken.pk), timeout=10000)
    expect(first.locator(".badge.q-top")).to_have_text("承诺违约")
    expect(first).to_contain_text("还款 ¥300.00：已违约")
    assert queue.locator(f"#queue-case-{kept.pk}").count() == 0
    _shot(queue, "work_queue_broken_on_top.png")
