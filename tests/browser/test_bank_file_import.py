"""A clerk maps a new bank's own file once and imports it; next month's file of the same layout takes two clicks."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from cases.models import Batch
from mappings.models import MappingVersion
from tests.mappings import banks

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_clerk_maps_a_new_banks_file_once_then_imports_next_month_in_two_clicks(live_url, browser_page, clerk,
                                                                                 tmp_path):
    # given: the bank's September and October files in its own layout (its own header words, "¥" amounts, dates
    # with a time of day, the contact's relation and name in one cell "配偶：联系人1")
    september, october = tmp_path / "建行9月.xlsx", tmp_path / "建行10月.xlsx"
    september.write_bytes(banks.ccb(banks.month_cases(9), "JH-09"))
    october.write_bytes(banks.ccb(banks.month_cases(10), "JH-10"))
    page = browser_page(clerk)

    # when: September is uploaded, mapped (the contact cell made a name-and-relation pair, the rate typed once)
    # and imported
    page.goto("/imports/")
    _shot(page, "bank_import_upload.png")
    page.locator("input[name=file]").set_input_files(str(september))
    page.get_by_role("button", name="上传并识别").click()
    expect(page.get_by_role("heading", name="建立映射")).to_be_visible()
    expect(page.locator("#preview")).to_contain_text("必填字段“佣金比例”还没有对应文件中的列")
    page.get_by_label("“紧急联系人”对应到").select_option("联系人1姓名及关系")
    page.locator("#const-佣金比例").fill("3.5%")
    page.locator("#const-佣金比例").dispatch_event("change")
    expect(page.locator("#preview")).not_to_contain_text("映射还不完整", timeout=10000)
    expect(page.locator("#preview")).to_contain_text("HT090001")
    _shot(page, "bank_import_editor.png")
    expect(page.locator("#preview")).to_contain_text("联系人1（配偶）13700000901")
    page.locator("#map-name").fill("建行委外清单")
    page.get_by_role("button", name="保存映射").click()
    expect(page.locator("[data-mapping-chosen]")).to_contain_text("建行委外清单（第 1 版）")
    _shot(page, "bank_import_review.png")
    page.get_by_role("button", name="确认导入").click()
    expect(page.locator("[data-import-ok]")).to_contain_text("导入成功：批次 JH-09")
    _shot(page, "bank_import_done.png")

    # then: October takes two clicks once the file is chosen: upload, confirm
    page.goto("/imports/")
    page.locator("input[name=file]").set_input_files(str(october))
    page.get_by_role("button", name="上传并识别").click()  # click 1
    expect(page.locator("[data-mapping-chosen]")).to_contain_text("已自动识别")
    expect(page.locator("#map-preview-table")).to_contain_text("HT100001")
    page.get_by_role("button", name="确认导入").click()  # click 2
    expect(page.locator("[data-import-ok]")).to_contain_text("导入成功：批次 JH-10")
    assert list(Batch.objects.order_by("batch_no").values_list("batch_no", "case_count")) == [
        ("JH-09", 3), ("JH-10", 3)]
    assert MappingVersion.objects.count() == 1

    # and the mapping page lists the version and the batches it read
    page.goto("/imports/mappings/")
    page.get_by_role("link", name="建行委外清单").click()
    expect(page.locator("body")).to_contain_text("JH-10")
    _shot(page, "bank_import_mapping.png")
