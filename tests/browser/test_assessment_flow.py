"""Pre-loan assessment end to end: a manager defines and publishes a scorecard, a clerk takes in an applicant
whose ID number has an old collection case at another bank, scores them, sees the history change the grade,
reviews with an override reason and downloads the PDF report that explains every point."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from assessment.models import Applicant
from cases.enums import CaseStatus
from tests import factories as f

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=True)


def test_manager_publishes_scorecard_and_old_case_lowers_the_grade(live_url, browser_page, manager, clerk, bank,
                                                                   other_bank, tmp_path):
    # given: the agency once worked this person for another bank (returned, nothing repaid)
    person = f.make_id_number(515, dt.date(1988, 3, 9))
    f.CaseFactory(batch=f.BatchFactory(bank=other_bank), id_number=person, case_no="JS-OLD-1",
                  entrusted_amount=Decimal("8000.00"), status=CaseStatus.RETURNED)

    # when: the manager creates the bank's scorecard, makes one old case cost 60 points and publishes it
    boss = browser_page(manager)
    boss.goto("/assessment/scorecards/")
    boss.get_by_label("银行").select_option(label=f"{bank.name}（{bank.code}）")
    boss.get_by_role("button", name="创建草稿").click()
    expect(boss.locator("h1")).to_contain_text("第 1 版")
    boss.locator(".char-card", has_text="本公司催收委案数").get_by_role("link", name="修改").click()
    boss.locator("input[name=bins-1-points]").fill("-60")
    boss.get_by_role("button", name="保存特征").click()
    expect(boss.locator(".char-card", has_text="本公司催收委案数")).to_contain_text("-60")
    boss.get_by_role("button", name="发布第 1 版").click()
    expect(boss.locator(".messages")).to_contain_text("已发布第 1 版")
    _shot(boss, "assessment_scorecard.png")

    # and the clerk takes in the applicant and scores them
    page = browser_page(clerk)
    page.goto("/assessment/new/")
    page.get_by_label("姓名").fill("赵浏览")
    page.get_by_label("证件号码").fill(person)
    page.get_by_label("手机号码").fill("13912345678")
    page.get_by_label("月收入（元）").fill("10000")
    page.get_by_label("现有月还款额（元）").fill("500")
    page.get_by_label("工作年限（年）").fill("5")
    page.get_by_label("申请金额（元）").fill("36000")
    page.get_by_label("申请期限（月）").fill("36")
    page.get_by_role("button", name="保存申请人").click()
    expect(page.locator(".messages")).to_contain_text("已录入申请人 赵浏览")
    page.get_by_role("button", name="核查催收记录并评分").click()

    # then: the old case is found and moves the grade from A to E; it belongs to a bank the clerk does not
    # handle, so the clerk sees it counted, never its case number
    history = page.locator("#history")
    expect(history).to_contain_text("其他银行（您不负责的银行）另有 1 件委案")
    expect(history).not_to_contain_text("JS-OLD-1")
    impact = page.locator(".hist-impact")
    expect(impact).to_contain_text("催收历史影响：-90 分")
    expect(impact).to_contain_text("等级为 A")
    expect(impact).to_contain_text("降为 E 级")
    expect(page.locator("table.breakdown")).to_contain_text("-60")
    _shot(page, "assessment_scored.png")

    # when: the clerk overrides the recommendation with a reason, then downloads the report
    page.get_by_label("最终决定").select_option(label="转人工审核")
    page.get_by_label("最终额度（元）").fill("10000")
    page.get_by_label("推翻建议的理由").fill("旧案已退案，申请人称已与建设银行和解，转人工核实")
    page.get_by_role("button", name="提交复核").click()
    expect(page.locator(".messages")).to_contain_text("已推翻系统建议并记录理由")
    with page.expect_download() as info:
        page.get_by_role("link", name="下载评估报告（PDF）").click()
    path = tmp_path / "report.pdf"
    info.value.save_as(path)

    # then: the report explains the points, the history and the override
    text = " ".join(subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True)
                    .stdout.decode().split())
    applicant = Applicant.objects.get(name="赵浏览")
    assessment = applicant.current_assessment
    assert assessment.grade == "E" and assessment.clean_grade == "A" and assessment.overridden
    assert "本公司催收委案数" in text and "-60" in text
    # the clerk's PDF counts the other bank's case, as the page does, and names no case number of it
    assert "其中 1 件属于其他银行" in text and "JS-OLD-1" not in text
    assert f"= {assessment.total_points} 分" in text and "旧案已退案" in text
