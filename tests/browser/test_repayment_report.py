"""A clerk records a repayment on the case page; the manager's report shows it; the bank-file preview renders."""

from __future__ import annotations

import io
import os
from decimal import Decimal

import pytest
from django.utils import timezone
from openpyxl import Workbook
from playwright.sync_api import expect

from cases.enums import CaseStatus
from cases.models import Repayment

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_clerk_records_repayment_and_manager_report_changes(live_url, browser_page, clerk, manager, collector,
                                                            make_case):
    # given: a case of the clerk's bank, and the manager's monthly report by commission rate (empty)
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="钱还款",
                     entrusted_amount=Decimal("5000.00"), commission_rate=Decimal("0.035000"))
    boss = browser_page(manager)
    boss.goto("/cases/reports/?kind=repayments&period=month&by=rate")
    expect(boss.locator(".card")).to_contain_text("所选范围内没有数据")

    # when: the clerk records ¥1,234.56 on the case page
    page = browser_page(clerk)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#repayments")
    expect(panel.get_by_role("button", name="登记回款")).to_be_visible(timeout=15000)
    panel.locator("input[name=amount]").fill("1234.56")
    panel.locator("input[name=bank_ref]").fill("TZ20261101")
    _shot(page, "repayment_form.png")
    panel.get_by_role("button", name="登记回款").click()

    # then: the panel shows the entry and the new balance, the report the amount and its commission
    expect(page.locator("#repayments")).to_contain_text("TZ20261101")
    expect(page.locator("#balance-figure")).to_have_text("3,765.44")
    assert Repayment.objects.get(case=case).amount == Decimal("1234.56")
    boss.reload()
    table = boss.locator("table.report-table")
    expect(table).to_contain_text("1,234.56")
    expect(table).to_contain_text("43.21")  # 1234.56 × 3.5% = 43.2096 → 43.21
    _shot(boss, "report.png")


def test_clerk_previews_bank_file(live_url, browser_page, clerk, make_case, tmp_path):
    # given
    make_case(case_no="BF-1", entrusted_amount=Decimal("800"))
    wb = Workbook()
    ws = wb.active
    ws.append(["案件编号", "还款金额", "还款日期", "流水号"])
    ws.append(["BF-1", 100, timezone.localdate(), "R-1"])
    ws.append(["NOPE-9", 50, timezone.localdate(), "R-2"])
    ws.append(["BF-1", "abc", timezone.localdate(), "R-3"])
    path = tmp_path / "回款.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    page = browser_page(clerk)
    # when
    page.goto("/cases/repayments/file/")
    page.locator("input[name=file]").set_input_files(str(path))
    page.get_by_role("button", name="上传并预览").click()
    # then
    expect(page.get_by_role("button", name="确认登记 1 笔回款")).to_be_visible()
    expect(page.locator("body")).to_contain_text("未匹配")
    expect(page.locator("body")).to_contain_text("第 4 行“还款金额”")
    _shot(page, "bank_file_preview.png")
    page.get_by_role("button", name="确认登记 1 笔回款").click()
    expect(page.locator(".messages")).to_contain_text("已登记 1 笔回款")
