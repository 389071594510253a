"""Browser: a collector opens 未接来电, sees the debtor's missed call on its case and an unknown caller, and calls
back from the case page's call panel."""

from __future__ import annotations

import datetime as dt
import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.enums import CallDirection, CallSource, CaseStatus
from cases.models import CallRecord
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = os.environ.get("SCREENSHOT_DIR")


def test_collector_sees_missed_calls_and_calls_back_from_the_case(browser_page):
    collector = f.CollectorFactory(sip_endpoint="8001", full_name="王催收")
    case = f.CaseFactory(collector=collector, status=CaseStatus.IN_PROGRESS, mobile="13812345678")
    now = timezone.now()
    CallRecord.objects.create(case=case, number="+8613812345678", direction=CallDirection.INBOUND,
                              source=CallSource.DIALER, started_at=now - dt.timedelta(minutes=3),
                              collector=collector, hangup_cause="来电方接通前挂断", call_uuid="1796524263.50")
    CallRecord.objects.create(number="13612345678", direction=CallDirection.INBOUND, source=CallSource.DIALER,
                              started_at=now - dt.timedelta(minutes=30), hangup_cause="未接来电（无空闲业务员接听）",
                              call_uuid="1796524263.51")
    page = browser_page(collector)
    # when
    page.goto("/cases/calls/missed/")
    # then
    expect(page.get_by_role("heading", name="未接来电")).to_be_visible()
    rows = page.locator("table.grid tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(case.case_no)
    expect(rows.nth(0)).to_contain_text("本人")
    expect(rows.nth(0)).to_contain_text("138****5678")  # +86 dropped before masking
    expect(rows.nth(1)).to_contain_text("未匹配")
    expect(rows.nth(1)).to_contain_text("136****5678")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/missed_calls.png", full_page=True)
    # when: 回拨
    rows.nth(0).get_by_role("link", name="回拨").click()
    # then: the case page, whose call panel lists the debtor's number to dial
    expect(page).to_have_url(f"{page.url.split('/cases/')[0]}/cases/{case.pk}/#call-panel")
    expect(page.locator("#call-panel [data-cp-dial]").first).to_be_visible()
