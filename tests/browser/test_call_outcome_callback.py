"""Browser: a collector agrees a callback time (约定回电) on the outcome form of a dialled call (issue 16 item 3);
a time outside the working calendar is refused under the field, a good one becomes the case's pending callback."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.actions.calls import call_record_create
from cases.enums import CallSource, CaseStatus
from cases.workdays import is_workday
from worklist.models import Callback, CallbackStatus

pytestmark = [pytest.mark.browser]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_collector_agrees_a_callback_on_the_call_outcome_form(live_url, browser_page, collector, clerk, make_case):
    # given: a call the dialer wrote, waiting for its outcome
    case = make_case(collector=collector, owner_clerk=clerk, status=CaseStatus.IN_PROGRESS, debtor_name="冯回电")
    start = timezone.now() - dt.timedelta(minutes=3)
    call = call_record_create(case=case, collector=collector, by=collector, number="13912345678",
                              source=CallSource.DIALER, started_at=start, answered_at=start + dt.timedelta(seconds=8),
                              ended_at=start + dt.timedelta(seconds=90), call_uuid="ari-cb.9")
    day = timezone.localdate() + dt.timedelta(days=1)
    while not is_workday(day):
        day += dt.timedelta(days=1)
    holiday = day + dt.timedelta(days=1)
    while is_workday(holiday):
        holiday += dt.timedelta(days=1)
    page = browser_page(collector)
    page.goto(f"/cases/{case.pk}/")
    page.locator("#case-work summary", has_text="登记结果").click()
    outcome = page.locator("#case-work details.call-outcome[open]")
    field = outcome.locator(f"input[name='outcome-{call.pk}-callback_at']")
    expect(field).to_be_visible(timeout=15000)
    # when: a day off
    outcome.locator("select").select_option("self_answered")
    field.fill(f"{holiday:%Y-%m-%d}T10:00")
    outcome.get_by_role("button", name="保存结果").click()
    # then: refused under the field, nothing saved
    outcome = page.locator("#case-work details.call-outcome[open]")
    expect(outcome.locator(".error")).to_contain_text("不是工作日，请选择工作日")
    assert not Callback.objects.exists()
    # when: the next working day at 10:00, with a note
    outcome.locator("select").select_option("self_answered")
    outcome.locator(f"input[name='outcome-{call.pk}-callback_at']").fill(f"{day:%Y-%m-%d}T10:00")
    outcome.locator("textarea").fill("本人说明天上午再打来")
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, "call-outcome-callback.png"), full_page=True)
    outcome.get_by_role("button", name="保存结果").click()
    # then
    expect(page.locator("#case-work .work-saved")).to_contain_text("通话结果已登记")
    cb = Callback.objects.get()
    assert (cb.status, cb.call_id, timezone.localtime(cb.due_at).replace(tzinfo=None)) == (
        CallbackStatus.PENDING, call.pk, dt.datetime.combine(day, dt.time(10, 0)))
    expect(page.locator("#case-timeline")).to_contain_text(f"约定回电 {day:%Y-%m-%d} 10:00")
