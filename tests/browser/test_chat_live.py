"""Two people in two browsers (collector and clerk) on one document request, live, through real daphne."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from cases.enums import CaseStatus
from tests.cases import samples

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def _shot(page, name):
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, name), full_page=False)


def _live(page):
    expect(page.locator("#rt-status")).to_have_class("rt-status rt-open", timeout=15000)


def test_collector_and_clerk_exchange_chat_messages_live(browser_page, collector, clerk, make_case, tmp_path):
    # given: the clerk watches the inbox, the collector is on one of their cases
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="王聊天")
    clerk_page = browser_page(clerk)
    clerk_page.goto("/cases/docreq/")
    _live(clerk_page)
    expect(clerk_page.locator("#docreq-body")).to_contain_text("没有待处理的资料请求")
    collector_page = browser_page(collector)
    collector_page.goto(f"/cases/{case.pk}/")
    _live(collector_page)

    # when: the collector asks for documents through the form on the case
    collector_page.get_by_role("link", name="索要资料").click()
    collector_page.get_by_label("身份证复印件").check()
    collector_page.get_by_label("借款合同").check()
    collector_page.get_by_label("用途说明（为什么需要）").fill("客户否认借款，需要合同和身份证核对")
    _shot(collector_page, "chat_request_form.png")
    collector_page.get_by_role("button", name="提交请求").click()
    expect(collector_page.locator("h1")).to_contain_text("资料请求 #")
    # then: the clerk gets a toast and the inbox row without reloading
    expect(clerk_page.locator(".rt-toast")).to_contain_text("新的资料请求", timeout=10000)
    row = clerk_page.locator("#docreq-body tr.docreq-row")
    expect(row).to_have_count(1, timeout=10000)
    expect(row).to_contain_text("王聊天")
    expect(row).to_contain_text("刚刚提交")
    _shot(clerk_page, "chat_inbox_toast.png")

    # when: the clerk opens the request; both chat sockets are up
    row.click()
    expect(clerk_page.locator("#chat-root")).to_be_visible()
    expect(clerk_page.locator("#chat-root")).to_have_attribute("data-conn", "open", timeout=10000)
    expect(collector_page.locator("#chat-root")).to_have_attribute("data-conn", "open", timeout=10000)
    # the clerk types: the collector sees the typing indicator
    clerk_box = clerk_page.locator("#chat-composer textarea")
    clerk_box.press_sequentially("您好，合同")
    expect(collector_page.locator("#chat-typing")).to_be_visible(timeout=5000)
    expect(collector_page.locator("#chat-typing")).to_have_text("对方正在输入…")
    clerk_box.press_sequentially("马上上传")
    clerk_box.press("Enter")
    # then: the message reaches the collector live, the request is answered, and the clerk sees it read
    expect(collector_page.locator(".chat-msg.theirs")).to_contain_text("您好，合同马上上传", timeout=10000)
    expect(collector_page.locator("#status-bar")).to_contain_text("已答复", timeout=10000)
    expect(clerk_page.locator(".chat-msg.mine .chat-tick")).to_have_text("已读", timeout=10000)

    # when: the collector answers back
    collector_box = collector_page.locator("#chat-composer textarea")
    collector_box.fill("好的，谢谢！\n另外需要身份证正反面")
    collector_page.get_by_role("button", name="发送").click()
    # then
    expect(clerk_page.locator(".chat-msg.theirs")).to_contain_text("另外需要身份证正反面", timeout=10000)
    expect(collector_page.locator(".chat-msg.mine .chat-tick")).to_have_text("已读", timeout=10000)

    # when: the clerk uploads a picture with a caption (a normal htmx POST, then the broadcast)
    picture = tmp_path / "身份证正面.jpg"
    picture.write_bytes(samples.jpeg(size=(360, 228), color=(210, 225, 240)))
    clerk_page.locator("#chat-composer input[type=file]").set_input_files(str(picture))
    expect(clerk_page.locator("#chat-file-name")).to_contain_text("身份证正面.jpg")
    clerk_box.fill("身份证见图")
    clerk_page.get_by_role("button", name="发送").click()
    # then: both sides show it, and the clerk's form is empty again
    expect(collector_page.locator(".chat-msg.theirs .chat-image img")).to_have_count(1, timeout=10000)
    expect(collector_page.locator(".chat-msg.theirs").last).to_contain_text("身份证见图")
    expect(clerk_page.locator(".chat-msg.mine .chat-image img")).to_have_count(1, timeout=10000)
    expect(clerk_box).to_have_value("")
    expect(collector_page.locator("#composer-error")).to_be_empty()
    _shot(collector_page, "chat_collector.png")
    _shot(clerk_page, "chat_clerk.png")

    # when: the collector reloads the page
    collector_page.reload()
    # then: the whole history is there, once each
    messages = collector_page.locator("#chat-log .chat-msg")
    expect(messages).to_have_count(3)
    expect(messages.nth(0)).to_contain_text("您好，合同马上上传")
    expect(messages.nth(1)).to_contain_text("另外需要身份证正反面")
    expect(messages.nth(2)).to_contain_text("身份证见图")

    # when: the collector closes the request
    collector_page.once("dialog", lambda dialog: dialog.accept())
    collector_page.get_by_role("button", name="关闭请求").click()
    # then: the clerk's page follows: closed, and the composer is disabled
    expect(clerk_page.locator("#status-bar")).to_contain_text("已关闭", timeout=10000)
    expect(clerk_box).to_be_disabled()
    expect(clerk_page.locator("#chat-closed-note")).to_be_visible()
    _shot(clerk_page, "chat_clerk_closed.png")
    # and the collector finds it in their list and on the case
    collector_page.goto("/cases/docreq/mine/?show=all")
    expect(collector_page.locator("#docreq-body tr.docreq-row")).to_contain_text("已关闭")
    _shot(collector_page, "chat_mine.png")
    collector_page.goto(f"/cases/{case.pk}/")
    expect(collector_page.locator("#docreq-case-panel")).to_contain_text("资料请求")
    expect(collector_page.locator("#docreq-case-panel tr.docreq-row")).to_have_count(1)
    collector_page.locator("#docreq-case-panel").scroll_into_view_if_needed()
    _shot(collector_page, "chat_case_panel.png")
