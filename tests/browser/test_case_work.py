from __future__ import annotations

import io
import os

import pytest
from docx import Document
from playwright.sync_api import expect

from cases.enums import CaseStatus, FileKind
from cases.models import CallRecord, StoredFile
from tests import factories as f
from tests.cases import samples

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_collector_adds_a_note_uploads_a_photo_and_downloads_the_visit_form(start_daphne, browser_page, collector,
                                                                            clerk, make_case, tmp_path):
    # given: the collector's case with the debtor's own number, on a server storing files in a fresh folder
    url = start_daphne(TEST_MEDIA_ROOT=str(tmp_path / "media"))
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.NOT_STARTED, debtor_name="郑浏览",
                     home_address="沈阳市皇姑区黄河北大街1号")
    f.CaseContactFactory(case=case, name="郑浏览", relation="本人", phone="13912340000")
    page = browser_page(collector, base_url=url)
    page.goto(f"/cases/{case.pk}/")
    panel = page.locator("#case-work")
    expect(panel.get_by_role("button", name="保存电话记录")).to_be_visible(timeout=15000)

    # when: a call note is saved
    panel.locator("select[name=contact]").select_option(label="本人 郑浏览 139****0000")
    panel.locator("select[name=result]").first.select_option(label="本人接听")
    panel.locator("textarea[name=note]").first.fill("本人接听，称下周发工资后还款")
    panel.get_by_role("button", name="保存电话记录").click()
    # then: the first call moved the case to 进行中, so the page reloads once to show it everywhere
    expect(page.locator(".messages")).to_contain_text("电话记录已保存；委案状态已变为“进行中”")
    expect(page.locator(".page-head .badge")).to_have_text("进行中")
    expect(page.locator("#case-work table.work-table")).to_contain_text("本人接听，称下周发工资后还款")
    expect(page.locator("#case-timeline")).to_contain_text("呼出 本人 139****0000 · 本人接听")
    assert CallRecord.objects.get(case=case).note == "本人接听，称下周发工资后还款"

    # when: a visit with a photo is entered
    page.locator("summary", has_text="记录外访结果").click()
    visit = page.locator("#case-work details", has_text="记录外访结果").locator("form")
    visit.locator("input[name=address]").fill("沈阳市皇姑区黄河北大街1号")
    visit.locator("select[name=result]").select_option(label="无人在家")
    visit.locator("input[name=photos]").set_input_files(
        [{"name": "门牌.jpg", "mimeType": "image/jpeg", "buffer": samples.jpeg(size=(320, 240))}])
    visit.get_by_role("button", name="保存外访记录").click()
    # then: without a reload, the photo shows on the visit, served through the permission-checked file view,
    # and the visit is on the timeline
    expect(page.locator(".work-saved")).to_have_text("✓ 外访记录已保存")
    expect(page.locator("#case-timeline")).to_contain_text("无人在家 · 附 1 个文件")
    photo = page.locator(".visit-files img")
    expect(photo).to_have_count(1)
    stored = StoredFile.objects.get(case=case, kind=FileKind.PHOTO)
    assert photo.get_attribute("src") == f"/cases/{case.pk}/files/{stored.pk}/"
    expect(photo).to_have_js_property("naturalWidth", 320)
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "case_work.png"), full_page=True)

    # when: the visit form is downloaded as Word
    with page.expect_download() as info:
        page.get_by_role("link", name="外访记录表（Word）").click()
    download = info.value
    # then: it carries the customer and the call just recorded
    assert download.suggested_filename.startswith("外访记录表_") and download.suggested_filename.endswith(".docx")
    with open(download.path(), "rb") as fh:
        doc = Document(io.BytesIO(fh.read()))
    text = "\n".join([p.text for p in doc.paragraphs]
                     + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert "郑浏览" in text and "本人接听，称下周发工资后还款" in text
