"""Browser: a 系统管理员 (made on the account page) opens 内勤负责银行, sees each clerk's banks ticked, ticks one more
box and saves; that clerk gains the bank and every other clerk keeps theirs (issue 13 item 1: the page rendered
every box unticked with value="", and saving wiped every clerk's banks)."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from cases.models import ClerkBankScope

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _scopes() -> set[tuple[int, int]]:
    return set(ClerkBankScope.objects.values_list("clerk_id", "bank_id"))


def test_admin_ticks_one_box_and_other_clerks_keep_their_banks(live_url, browser_page, sysadmin, clerk,
                                                               other_clerk, bank, other_bank):
    # given: clerk handles 招商银行, other_clerk 建设银行
    page = browser_page(sysadmin)
    page.goto("/ops/scopes/")
    mine = page.get_by_role("checkbox", name=f"{clerk.display_name} 负责 {bank.name}")
    theirs = page.get_by_role("checkbox", name=f"{other_clerk.display_name} 负责 {other_bank.name}")
    expect(mine).to_be_checked()
    expect(theirs).to_be_checked()
    expect(page.get_by_role("checkbox", name=f"{clerk.display_name} 负责 {other_bank.name}")).not_to_be_checked()
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "scope_grid.png"), full_page=True)

    # when: tick 建设银行 for clerk and save
    page.get_by_role("checkbox", name=f"{clerk.display_name} 负责 {other_bank.name}").check()
    page.get_by_role("button", name="保存").click()

    # then
    expect(page.locator(".messages")).to_contain_text("1 位内勤的负责银行有变动")
    assert _scopes() == {(clerk.pk, bank.pk), (clerk.pk, other_bank.pk), (other_clerk.pk, other_bank.pk)}
    expect(page.get_by_role("checkbox", name=f"{clerk.display_name} 负责 {other_bank.name}")).to_be_checked()
    expect(page.get_by_role("checkbox", name=f"{other_clerk.display_name} 负责 {other_bank.name}")).to_be_checked()
