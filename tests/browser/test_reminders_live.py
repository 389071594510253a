from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.enums import CaseStatus

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def in_thread(fn, **kwargs):
    """Run an action in a worker thread: Playwright keeps an event loop running in the test's thread, and
    publishing after commit uses async_to_sync, which refuses to run beside a running loop."""
    from django.db import connection

    def run():
        try:
            fn(**kwargs)
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(30)


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=False)


def test_reminder_appears_live_and_read_state_syncs_across_tabs(start_daphne, browser_page, collector, clerk,
                                                                make_case):
    # given: a web process running the scheduler every second, and the collector's page open in two tabs
    url = start_daphne(SCHEDULER_EMBEDDED="1", SCHEDULER_INTERVAL_SECONDS="1")
    page = browser_page(collector, base_url=url)
    page.goto("/cases/reminders/")
    expect(page.locator("#rt-status")).to_have_class("rt-status rt-open", timeout=15000)
    other_tab = page.context.new_page()
    other_tab.goto("/cases/")
    expect(other_tab.locator("#rt-status")).to_have_class("rt-status rt-open", timeout=15000)
    expect(page.locator(".rt-bell-count")).to_be_hidden()
    # when: a case of theirs comes within 3 days of its return date
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS,
                     entrust_date=dt.date(2026, 8, 1), return_date=timezone.localdate() + dt.timedelta(days=3),
                     debtor_name="王小明")
    # then: without a reload, a toast and the bell count appear in both tabs, and the list grows a row
    # (after 08:00 the day's digest may pop up beside it: the reminder's own toast carries its id)
    toast = page.locator(".rt-toast[data-reminder-id]")
    expect(toast).to_contain_text("此案件还有3天到期，请抓紧进行工作", timeout=15000)
    expect(toast).to_contain_text(case.case_no)
    expect(page.locator(".rt-bell-count")).to_have_text("1")
    expect(other_tab.locator(".rt-bell-count")).to_have_text("1", timeout=10000)
    expect(page.locator("#reminder-rows tr.unread")).to_have_count(1)
    _shot(page, "reminder_toast.png")
    # when: the new row is marked read in one tab, still without a reload
    page.locator("#reminder-rows").get_by_role("button", name="标为已读").click()
    # then: the row says so, and the other tab's bell clears
    expect(page.locator("#reminder-rows tr").first.locator(".reminder-state")).to_have_text("已读")
    expect(page.locator(".rt-bell-count")).to_be_hidden()
    expect(other_tab.locator(".rt-bell-count")).to_be_hidden(timeout=10000)
    _shot(other_tab, "reminder_read_synced.png")


def test_dashboard_updates_in_place(live_url, browser_page, manager):
    # given: events reach the web process from this test process only through Redis
    from decimal import Decimal

    from django.conf import settings

    from cases.actions.stats import daily_stats_bump
    from tests import factories as f

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL: the test publishes from another process than the web server")
    dept_a = f.DepartmentFactory(name="电催一部", branch=f.BranchCompanyFactory(name="沈阳分公司"))
    dept_b = f.DepartmentFactory(name="外访一部", branch=dept_a.branch)
    a = f.CollectorFactory(department=dept_a, full_name="王催收")
    f.CollectorFactory(department=dept_a, full_name="李催收")
    f.FieldCollectorFactory(department=dept_b, full_name="赵外访")
    in_thread(daily_stats_bump, collector_id=a.pk, calls_made=12, calls_connected=5, cases_worked=7)
    page = browser_page(manager)
    page.goto("/cases/dashboard/")
    expect(page.locator("#rt-status")).to_have_class("rt-status rt-open", timeout=15000)
    row = page.locator(f'tr[data-scope="collector"][data-id="{a.pk}"]')
    expect(row.locator('td[data-col="calls_made"]')).to_have_text("12")
    # when: the collector makes a connected call and a repayment is recorded
    in_thread(daily_stats_bump, collector_id=a.pk, calls_made=1, calls_connected=1, repaid_amount=Decimal("1500.00"))
    # then: collector, department, branch and total figures move without a reload
    expect(row.locator('td[data-col="calls_made"]')).to_have_text("13", timeout=10000)
    expect(row.locator('td[data-col="repaid_amount"]')).to_have_text("1,500.00")  # grouped live too
    dept_row = page.locator(f'tr[data-scope="department"][data-id="{dept_a.pk}"]')
    expect(dept_row.locator('td[data-col="calls_connected"]')).to_have_text("6")
    expect(page.locator('.dash-card[data-col="calls_made"] .v')).to_have_text("13")
    expect(page.locator('.dash-card[data-col="repaid_amount"] .v')).to_have_text("¥1,500.00")
    _shot(page, "dashboard_live.png")
