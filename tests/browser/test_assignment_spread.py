"""Issue 3, end to end in the browser: a clerk spreads 50 filtered cases evenly over two collectors (C3, C6),
and a collector who has a page open hears of the new cases at once (case.assigned over the websocket)."""

from __future__ import annotations

import os
import re
from decimal import Decimal

import pytest
from django.db.models import Sum
from playwright.sync_api import expect

from cases.enums import CaseStatus
from cases.models import Case
from tests import factories as f
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", "").strip())


def test_clerk_spreads_50_filtered_cases_evenly_over_two_collectors(browser_page, clerk, bank, collector,
                                                                   other_collector, tmp_path):
    # given: 50 unassigned cases in one batch, 7 more in another batch of the same bank, two collectors
    batch = f.BatchFactory(bank=bank, batch_no="PC-SPREAD-50")
    for i in range(50):
        f.CaseFactory(batch=batch, entrusted_amount=Decimal(1000 + (i * 7919) % 40000) + Decimal("0.35"))
    noise = f.BatchFactory(bank=bank, batch_no="PC-OTHER-07")
    f.CaseFactory.create_batch(7, batch=noise, entrusted_amount=Decimal("5000.00"))
    total = Case.objects.filter(batch=batch).aggregate(s=Sum("entrusted_amount"))["s"]
    # the collector already has their case list open, with the live connection up
    collector_page = browser_page(collector)
    collector_page.goto("/cases/")
    expect(collector_page.locator("#rt-status.rt-open")).to_have_count(1, timeout=15000)

    # when: the clerk signs in with the login form
    page = browser_page()
    page.goto("/accounts/login/")
    page.fill("#id_username", clerk.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(re.compile(r"^(?!.*/accounts/login/).*$"))
    # and filters the assignment list to the batch
    page.goto("/cases/assign/")
    page.get_by_label("批次").select_option(label=f"{batch.batch_no} · {bank.name}")
    page.get_by_role("button", name="查询").click()
    # then: exactly the 50 cases match, more than the page shows
    expect(page.locator(".selection-bar")).to_contain_text("符合条件 50 件")

    # when: all matching cases are selected, two collectors picked, even by count, previewed
    page.get_by_role("button", name="选择全部符合条件的 50 件").click()
    expect(page.locator("#selection-status")).to_contain_text("50")
    picker = page.locator("#collector-picker")
    picker.locator("label", has_text="王催收").locator("input[name=collector]").check()
    picker.locator("label", has_text="周催收").locator("input[name=collector]").check()
    page.get_by_label("按件数平均").check()
    page.get_by_role("button", name="预览分配").click()

    # then: the preview shows 25 and 25 and how much money each would get
    preview = page.locator("#assign-preview table.preview")
    expect(preview).to_be_visible(timeout=15000)
    rows = preview.locator("tbody tr")
    expect(rows).to_have_count(2)
    shown: dict[str, tuple[int, Decimal]] = {}
    for i in range(2):
        cells = rows.nth(i).locator("td")
        name = "王催收" if "王催收" in cells.nth(0).inner_text() else "周催收"
        shown[name] = (int(cells.nth(1).inner_text()), _money(cells.nth(2).inner_text()))
    assert {n: c for n, (c, _) in shown.items()} == {"王催收": 25, "周催收": 25}
    assert sum(a for _, a in shown.values()) == total
    expect(preview.locator("tfoot")).to_contain_text("50")
    expect(page.locator("#assign-preview .spread")).to_contain_text("件数最多相差 0 件")
    shot = os.path.join(SHOTS or str(tmp_path), "assign_preview.png")
    page.locator(".assign-panel").screenshot(path=shot)

    # when: the clerk confirms
    page.get_by_role("button", name="确认分配 50 件").click()
    # then: the page says so, and the database holds 25 each, with the clerk as owner clerk
    expect(page.locator(".messages")).to_contain_text("已分配 50 件委案", timeout=30000)
    for user, name in ((collector, "王催收"), (other_collector, "周催收")):
        mine = Case.objects.filter(batch=batch, collector=user)
        assert mine.count() == 25
        assert mine.aggregate(s=Sum("entrusted_amount"))["s"] == shown[name][1]
    assert set(Case.objects.filter(batch=batch).values_list("owner_clerk_id", flat=True)) == {clerk.pk}
    assert set(Case.objects.filter(batch=batch).values_list("status", flat=True)) == {CaseStatus.NOT_STARTED}
    assert not Case.objects.filter(batch=noise).exclude(collector=None).exists()
    # and the collector whose page was open is told at once
    toast = collector_page.locator(".rt-toast.k-assigned")
    expect(toast).to_contain_text("您有 25 件新分配的委案", timeout=15000)
    expect(toast).to_contain_text("李内勤")
    if SHOTS:
        collector_page.screenshot(path=os.path.join(SHOTS, "assign_toast.png"))
